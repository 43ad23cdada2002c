import pytest

from scigan.core import keras_harness


def test_measure_runs_each_round_until_its_time_is_up_and_waits_for_the_last_step():
    now = [0.0]
    calls = []

    class Loss:
        def __float__(self):
            calls.append("wait")
            return 0.0

    def step():
        now[0] += 0.25
        calls.append("step")
        return Loss()

    rates = keras_harness.measure(step, seconds=2.0, rounds=2, clock=lambda: now[0])
    # each round: 1 s = 4 steps of 0.25 s, then one wait for the last loss
    assert rates == [4.0, 4.0]
    assert calls == (["step"] * 4 + ["wait"]) * 2


def test_measure_runs_at_least_min_steps():
    now = [0.0]

    def step():
        now[0] += 10.0
        return 1.0

    assert keras_harness.measure(step, 1.0, 1, clock=lambda: now[0], min_steps=3) == [0.1]


def test_an_unknown_variant_stops_before_tensorflow_is_imported(tmp_path):
    case = tmp_path / "case.py"
    case.write_text("PARAMETERS = {}\nVARIANTS = ('xla',)\n")
    with pytest.raises(SystemExit, match=r"variant 'eager' not in \['xla'\]"):
        keras_harness.main([str(case), "--variant", "eager"])
