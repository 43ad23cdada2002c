from scigan.core.bench import _bench_modules


def test_every_case_study_benchmark_is_found_and_core_is_not():
    assert _bench_modules() == ["blobs", "dna", "ising"]
