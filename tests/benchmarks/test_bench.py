from benchmarks.bench import _bench_modules


def test_every_case_study_benchmark_is_found_and_core_is_not():
    assert _bench_modules() == ["blobs", "dna", "ising"]


def test_measured_between_peaks_brackets_the_measurement_and_keeps_the_higher_peak(monkeypatch):
    from benchmarks import bench

    events = []
    peaks = iter([120.0, 150.0])

    def fake_peak(device="cpu"):
        events.append("peak")
        return next(peaks)

    def measure():
        events.append("measure")
        return 42

    monkeypatch.setattr(bench, "matmul_peak_gflops", fake_peak)
    assert bench.measured_between_peaks(measure) == (42, 150.0)
    assert events == ["peak", "measure", "peak"]


def test_reference_rate_scales_with_the_peak():
    from benchmarks.bench import REFERENCE_PEAK_GFLOPS, scaled_reference

    assert scaled_reference(100.0, REFERENCE_PEAK_GFLOPS) == 100.0
    assert scaled_reference(185.0, REFERENCE_PEAK_GFLOPS / 2) == 92.5


def test_versus_keras_reports_the_raw_and_the_peak_scaled_ratio():
    from benchmarks.bench import REFERENCE_PEAK_GFLOPS, versus_keras

    assert versus_keras(50.0, 100.0, REFERENCE_PEAK_GFLOPS / 2) == {
        "vs_keras": 0.5,
        "vs_keras_at_this_peak": 1.0,
    }


def test_sliced_rate_warms_up_then_times_slices_of_whole_steps():
    from benchmarks.bench import sliced_rate

    now = [0.0]
    steps = []

    class Task:
        def train_step(self):
            now[0] += 0.5
            steps.append(now[0])
            return {"loss": 0.0}

    rate = sliced_rate(Task(), warmup_seconds=1.0, clock=lambda: now[0])
    assert len(steps) == 2  # the warm-up: 1 s of 0.5 s steps
    assert rate(2.0) == 2.0  # 4 steps in 2 s
    assert rate(0.1) == 2.0  # at least two steps, in 1 s
    assert len(steps) == 8
