"""The benchmark runs end to end and reports JSON-serializable rates."""

import json

from benchmarks import ising
from benchmarks.bench import versus_keras
from scigan.montecarlo import mc


def test_quick_bench_reports_every_engine():
    results = ising.run_bench(quick=True)
    json.dumps(results)
    assert results["python_loop_thesis_L9"] > 0
    for case in ("thesis_protocol_41T_L9_64chains", "L256_Tc_128chains"):
        assert set(mc.ALGORITHMS) <= set(results[case])
        assert all(rate > 0 for rate in results[case].values())
    assert results["default_dataset_seconds"] > 0
    gan = results["gan"]
    cases = {"fused_1gan_batch64", "fused_1gan_batch1024", "autograd_1gan_batch64"}
    assert set(gan) == cases | {"unit", "keras_reference_steps_per_s"}
    for case in cases:
        entry = gan[case]
        assert entry["steps_per_s"] > 0
        assert entry["fp32_matmul_peak_gflops_around"] > 0
        if case.endswith("batch64"):
            expected = versus_keras(
                entry["steps_per_s"],
                ising.KERAS_REFERENCE_STEPS_PER_S,
                entry["fp32_matmul_peak_gflops_around"],
            )
            assert {key: entry[key] for key in expected} == expected
        else:
            assert "vs_keras" not in entry
