"""A straightforward Keras implementation of the thesis DNA GAN, timed by
`benchmarks.keras_harness` under an interpreter with TensorFlow
(``python -m benchmarks --keras-python``).

Tables 2-3 in Keras as the thesis wrote them (Dense layers, LeakyReLU 0.3, a sigmoid output,
binary cross-entropy, Adam 1e-3 with Keras's defaults, real label 0.9, D then G on batches of
64). TensorFlow and Keras come in as arguments: this file must not import them (nor torch).

Training styles (``VARIANTS``):

* ``train_on_batch``: the thesis's own pattern: ``D.train_on_batch`` on real and generated
  windows, then ``train_on_batch`` of the stacked G -> D model with D frozen.
* ``tf_function``: one ``tf.function`` step with two ``GradientTape``s (TensorFlow's GAN
  tutorial pattern; what ``fit()`` with a custom ``train_step`` runs).
* ``xla``: the same step compiled by XLA (``jit_compile=True``).
"""

WINDOW, NUCLEOTIDES, NOISE_DIM = 60, 4, 100
PARAMETERS = {"generator": 280_560, "discriminator": 254_977}
VARIANTS = ("train_on_batch", "tf_function", "xla")
REAL_LABEL = 0.9


def _models(keras):
    layers = keras.layers
    generator = keras.Sequential(
        [
            keras.Input((NOISE_DIM,)),
            layers.Dense(256),
            layers.LeakyReLU(0.3),
            layers.Dense(512),
            layers.LeakyReLU(0.3),
            layers.Dense(WINDOW * NUCLEOTIDES),
        ]
    )
    discriminator = keras.Sequential(
        [
            keras.Input((WINDOW * NUCLEOTIDES,)),
            layers.Dense(512),
            layers.LeakyReLU(0.3),
            layers.Dense(256),
            layers.LeakyReLU(0.3),
            layers.Dense(1, activation="sigmoid"),
        ]
    )
    return generator, discriminator


def build(kit, batch: int, variant: str, seed: int):
    import numpy as np

    tf, keras = kit.tf, kit.keras
    rng = np.random.default_rng(seed)
    pool = 64 * batch  # one-hot windows cycled through, as a data set would be
    real = np.eye(NUCLEOTIDES, dtype=np.float32)[rng.integers(0, NUCLEOTIDES, (pool, WINDOW))]
    real = real.reshape(pool, -1)
    generator, discriminator = _models(keras)
    models = {"generator": generator, "discriminator": discriminator}
    labels_d = np.concatenate([np.full((batch, 1), REAL_LABEL), np.zeros((batch, 1))])
    labels_d = labels_d.astype(np.float32)
    labels_g = np.ones((batch, 1), np.float32)
    next_real = kit.cycled_batches(real, batch)
    if variant == "train_on_batch":
        discriminator.compile(keras.optimizers.Adam(1e-3), "binary_crossentropy")
        stacked = keras.Sequential([generator, discriminator])
        stacked.compile(keras.optimizers.Adam(1e-3), "binary_crossentropy")

        def step():
            # Keras 3 reads `trainable` at each call: D learns in its own step only
            fake = generator.predict_on_batch(rng.standard_normal((batch, NOISE_DIM), np.float32))
            discriminator.trainable = True
            discriminator.train_on_batch(np.concatenate([next_real(), fake]), labels_d)
            discriminator.trainable = False
            noise = rng.standard_normal((batch, NOISE_DIM), np.float32)
            return stacked.train_on_batch(noise, labels_g)

        return models, step

    y_d = tf.constant(labels_d)

    def discriminator_labels():
        return y_d

    train_step = kit.two_tape_step(
        tf,
        generator,
        discriminator,
        keras.optimizers.Adam(1e-3),
        keras.optimizers.Adam(1e-3),
        keras.losses.BinaryCrossentropy(),
        NOISE_DIM,
        discriminator_labels,
        tf.constant(labels_g),
    )
    compiled = tf.function(train_step, jit_compile=variant == "xla")
    return models, lambda: compiled(next_real())
