"""The benchmark runs end to end and reports JSON-serializable rates."""

import json

from scigan.ising import bench, mc


def test_quick_bench_reports_every_engine():
    results = bench.run_bench(quick=True)
    json.dumps(results)
    assert results["python_loop_thesis_L9"] > 0
    for case in ("thesis_protocol_41T_L9_64chains", "L256_Tc_128chains"):
        assert set(mc.ALGORITHMS) <= set(results[case])
        assert all(rate > 0 for rate in results[case].values())
    assert results["default_dataset_seconds"] > 0
    gan = results["gan"]
    expected = {"unit", "fused_1gan_batch64", "fused_1gan_batch1024", "autograd_1gan_batch64"}
    assert set(gan) == expected
    assert all(rate > 0 for key, rate in gan.items() if key != "unit")
