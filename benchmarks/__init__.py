"""scigan's benchmarks and Keras comparisons: numbers in a JSON file, never pass/fail in tests.

Not part of the installed `scigan` package (scigan imports nothing from here); run from the
repository root as ``python -m benchmarks`` (`benchmarks.__main__`).

* `benchmarks.bench`: the runner (`run_benchmarks`) and the measurement helpers shared by the
  case studies (steps/s, matmul peak, ratios against Keras reference rates reported elsewhere).
* ``benchmarks/<case>.py`` (dna, blobs, ising): a case study's ``run_bench(quick) -> dict`` and,
  where it has one, ``keras_comparison(keras_python, quick) -> dict``.
* ``benchmarks/<case>_keras.py``: the case study's straightforward Keras implementation, loaded
  by its path by `benchmarks.keras_harness` under an interpreter with TensorFlow; these files
  import nothing (neither torch nor TensorFlow) at module level.
* `benchmarks.keras_harness`: that standalone script; `benchmarks.keras_reference` runs it and
  alternates its timings with scigan's (``--keras-python``).
"""
