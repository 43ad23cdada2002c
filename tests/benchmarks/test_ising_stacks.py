"""The stack and sweep benchmarks: the counted cost of a step, and their reports."""

import json

from benchmarks import ising_stacks


def test_step_cost_counts_the_products_and_the_streams():
    # L = 1, kernel 1, one critic update, batch 1, every width 1: each term by hand
    cost = ising_stacks.step_cost(
        L=1, batch=1, critic_steps=1, noise_dim=1, channels=1, critic_channels=1, hidden=1,
        kernel=1,
    )  # fmt: skip
    critic_forward_3 = 2 * 3 + (2 * 3 + 2 * 3) + 2 * 3  # conv, dense1 + dense2, v: 3 rows
    critic = critic_forward_3 + (2 * 3 + 2 * 3) + (2 * 3 + 4)  # + score and penalty grads
    generator = (2 + 1) + 2 * 2 + (2 + 2 + 2 + 2 + 2) + (2 + 2 * 2)
    assert cost == {"flops": critic + generator, "bytes": 10 * 4 + 16 * (3 + 1)}
    thesis = ising_stacks.step_cost()
    assert thesis["bytes"] == 10 * 4 * 128 * 128 * 81 + 16 * 81 * 9 * (5 * 192 + 64)


def test_quick_stack_bench_reports_rates_and_shares():
    out = ising_stacks.stack_bench(quick=True)
    json.dumps(out)
    cost = ising_stacks.step_cost()
    for case in ("1x1_gans", "1x4_gans", "2x4_gans"):
        entry = out[case]
        rate = entry["gan_steps_per_s"]
        assert rate > 0
        assert entry["share_of_fp32_peak"] == rate * cost["flops"] / (
            out["fp32_matmul_peak_gflops"] * 1e9
        )
    assert out["2_processes_1_thread_each_1x4_gans"]["gan_steps_per_s"] > 0
