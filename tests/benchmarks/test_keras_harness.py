import pytest

from benchmarks import keras_harness


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


def test_serve_announces_then_answers_each_request_with_a_timed_slice():
    import io
    import json

    now = [0.0]

    def step():
        now[0] += 0.25
        return 0.0

    replies = io.StringIO()
    keras_harness.serve(
        step, {"variant": "xla"}, io.StringIO("1.0\n\n0.5\n"), replies, lambda: now[0]
    )
    lines = [json.loads(line) for line in replies.getvalue().splitlines()]
    # 1 s = 4 steps of 0.25 s; 0.5 s would be 2 steps, but a slice runs at least 3
    assert lines == [{"variant": "xla"}, {"steps_per_s": 4.0}, {"steps_per_s": 4.0}]


def test_cycled_batches_walk_through_the_samples_and_wrap():
    next_batch = keras_harness.cycled_batches(list(range(10)), 4)
    # starts stay within len - batch, so every batch is whole: 0, 4, then (4 + 4) % 6 = 2
    assert [next_batch() for _ in range(3)] == [[0, 1, 2, 3], [4, 5, 6, 7], [2, 3, 4, 5]]
