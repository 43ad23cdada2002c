"""Times a straightforward Keras implementation of a case study's GAN step (run by another Python).

This file is a script for an interpreter that has TensorFlow (Keras 3) installed, e.g. the
``.venv-keras`` that ``make bench-keras`` creates; it imports nothing from scigan, benchmarks or
torch, so TensorFlow's own numpy and thread pools never meet torch's in one process. ``python -m
benchmarks --keras-python PY`` (`benchmarks.keras_reference`) runs it by its path as::

    PY keras_harness.py CASE_FILE --variant xla --batch 64 --threads 2 --serve

and, once the model is built and warm, asks it for timed slices of training on its stdin (`serve`),
alternating with slices of scigan's own step. Without ``--serve`` it times ``--rounds`` rounds
over ``--seconds`` and prints the result.

CASE_FILE is a case study's Keras reference (``benchmarks/<case>_keras.py``), loaded by its path
(not imported as part of the package). It defines ``PARAMETERS`` (the thesis
tables' counts, {"generator": n, "discriminator": n}), ``VARIANTS`` (the training styles it
implements) and ``build(kit, batch, variant, seed) -> (models, step)``: the Keras models by
name and a callable running one training iteration (D then G) that returns something
``float()``-able for its last loss (which waits for the step to finish). ``kit`` holds ``tf``,
``keras``, `two_tape_step` and `cycled_batches`. The harness checks the parameter counts,
warms up (tracing, XLA compilation), then times slices on request or rounds and prints JSON.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import time
from collections.abc import Callable
from types import SimpleNamespace

# Thread pools per training style, the faster of each on the DNA GAN here (2 cores): XLA's
# compiled program with one inter-op thread (~150 steps/s against ~130 with two), tf.function's
# graph of small ops with as many inter-op as intra-op threads (~115 against ~100).
_INTER_OP_THREADS = {"xla": 1}


def measure(
    step: Callable[[], object],
    seconds: float,
    rounds: int,
    clock: Callable[[], float] = time.perf_counter,
    min_steps: int = 3,
) -> list[float]:
    """Steps per second of `rounds` rounds, each running `step` until `seconds` / `rounds` have
    passed (and at least `min_steps` times); a round ends by waiting for its last step."""
    per_round = seconds / rounds
    rates = []
    for _ in range(rounds):
        start = clock()
        done = 0
        while True:
            out = step()
            done += 1
            if done >= min_steps and clock() - start >= per_round:
                break
        float(out)  # the last loss: waits until the round's work is done
        rates.append(done / (clock() - start))
    return rates


def two_tape_step(tf, generator, discriminator, opt_g, opt_d, loss, noise_dim, labels_d, labels_g):
    """The GAN step of TensorFlow's DCGAN tutorial and of Keras's DCGAN example ``train_step``:
    D on real and generated samples together (labels from ``labels_d()``), then G through D on
    fresh noise, each with its own ``GradientTape``; returns an uncompiled ``step(x_real)``."""

    def step(x_real):
        batch = tf.shape(x_real)[0]
        fake = generator(tf.random.normal((batch, noise_dim)), training=True)
        with tf.GradientTape() as tape:
            loss_d = loss(labels_d(), discriminator(tf.concat([x_real, fake], 0), training=True))
        weights = discriminator.trainable_variables
        opt_d.apply_gradients(zip(tape.gradient(loss_d, weights), weights, strict=True))
        with tf.GradientTape() as tape:
            fake = generator(tf.random.normal((batch, noise_dim)), training=True)
            loss_g = loss(labels_g, discriminator(fake, training=True))
        weights = generator.trainable_variables
        opt_g.apply_gradients(zip(tape.gradient(loss_g, weights), weights, strict=True))
        return loss_g

    return step


def cycled_batches(samples, batch: int) -> Callable[[], object]:
    """next_batch() -> the next `batch` rows of `samples`, cycling through them as a training
    loop walks through a data set."""
    position = [0]
    wrap = len(samples) - batch

    def next_batch():
        i = position[0]
        position[0] = (i + batch) % wrap
        return samples[i : i + batch]

    return next_batch


def load_case(path: str):
    spec = importlib.util.spec_from_file_location("keras_reference_case", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"error: cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("case_file")
    parser.add_argument("--variant", required=True)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup-seconds", type=float, default=3.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--serve", action="store_true", help="after warming up, time on request (see serve)"
    )
    args = parser.parse_args(argv)

    case = load_case(args.case_file)
    if args.variant not in case.VARIANTS:
        raise SystemExit(f"error: variant {args.variant!r} not in {list(case.VARIANTS)}")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(
        _INTER_OP_THREADS.get(args.variant, args.threads)
    )
    tf.random.set_seed(args.seed)
    kit = SimpleNamespace(
        tf=tf, keras=keras, two_tape_step=two_tape_step, cycled_batches=cycled_batches
    )
    models, step = case.build(kit, args.batch, args.variant, args.seed)
    counts = {name: int(model.count_params()) for name, model in models.items()}
    if counts != case.PARAMETERS:
        raise SystemExit(
            f"error: Keras parameter counts {counts} != the thesis's {case.PARAMETERS}"
        )
    measure(step, args.warmup_seconds, 1, min_steps=2)  # tracing / compilation, then warm caches
    info = {
        "variant": args.variant,
        "batch_size": args.batch,
        "threads": args.threads,
        "parameters": counts,
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "onednn": os.environ.get("TF_ENABLE_ONEDNN_OPTS"),
    }
    if args.serve:
        serve(step, info, sys.stdin, sys.stdout)
        return
    rates = measure(step, args.seconds, args.rounds)
    info.update(steps_per_s=max(rates), rounds_steps_per_s=rates)
    sys.stdout.write(json.dumps(info) + "\n")


def serve(
    step: Callable[[], object],
    info: dict,
    requests,
    replies,
    clock: Callable[[], float] = time.perf_counter,
) -> None:
    """Announce `info` (one JSON line), then for each line of `requests` (seconds to run)
    reply with one JSON line {"steps_per_s": rate}; until `requests` ends. The caller keeps
    the warmed-up model between its own measurements, so the two alternate within seconds."""
    replies.write(json.dumps(info) + "\n")
    replies.flush()
    for line in requests:
        if line.strip():
            rate = measure(step, float(line), 1, clock)[0]
            replies.write(json.dumps({"steps_per_s": rate}) + "\n")
            replies.flush()


if __name__ == "__main__":
    main()
