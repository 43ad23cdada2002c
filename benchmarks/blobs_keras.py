"""A straightforward Keras implementation of the thesis blob DCGAN, timed by
`benchmarks.keras_harness` under an interpreter with TensorFlow
(``python -m benchmarks --keras-python``).

Tables 4-5 in Keras (channels last, "same" padding, LeakyReLU 0.2, dropout 0.2, sigmoid outputs)
with the recipe of the Keras DCGAN example the thesis followed: one step trains D on real and
generated images together (labels 1 and 0 plus 0.05 U(0, 1) noise), then G through D on fresh
noise; binary cross-entropy, Adam 1e-4, batch 64. TensorFlow and Keras come in as arguments:
this file must not import them (nor torch).

Training styles (``VARIANTS``): ``tf_function`` (the example's ``train_step``: one
``tf.function`` with two ``GradientTape``s) and ``xla`` (the same, ``jit_compile=True``).
"""

SIZE, NOISE_DIM = 32, 128
PARAMETERS = {"generator": 1_849_985, "discriminator": 166_625}
VARIANTS = ("tf_function", "xla")
LABEL_NOISE = 0.05


def _models(keras):
    layers = keras.layers
    base = SIZE // 4
    generator = keras.Sequential(
        [
            keras.Input((NOISE_DIM,)),
            layers.Dense(base * base * 128),
            layers.Reshape((base, base, 128)),
            layers.Conv2DTranspose(128, 4, strides=2, padding="same"),
            layers.LeakyReLU(0.2),
            layers.Conv2DTranspose(256, 4, strides=2, padding="same"),
            layers.LeakyReLU(0.2),
            layers.Conv2D(1, 5, padding="same", activation="sigmoid"),
        ]
    )
    discriminator = keras.Sequential(
        [
            keras.Input((SIZE, SIZE, 1)),
            layers.Conv2D(32, 4, strides=2, padding="same"),
            layers.LeakyReLU(0.2),
            layers.Conv2D(64, 4, strides=2, padding="same"),
            layers.LeakyReLU(0.2),
            layers.Conv2D(128, 4, strides=2, padding="same"),
            layers.LeakyReLU(0.2),
            layers.Flatten(),
            layers.Dropout(0.2),
            layers.Dense(1, activation="sigmoid"),
        ]
    )
    return generator, discriminator


def build(kit, batch: int, variant: str, seed: int):
    import numpy as np

    tf, keras = kit.tf, kit.keras
    pool = 8 * batch  # images cycled through, as a data set would be
    real = np.random.default_rng(seed).random((pool, SIZE, SIZE, 1), dtype=np.float32)
    generator, discriminator = _models(keras)
    labels = tf.concat([tf.ones((batch, 1)), tf.zeros((batch, 1))], 0)
    next_real = kit.cycled_batches(real, batch)

    def discriminator_labels():  # real 1, generated 0, plus label noise drawn every step
        return labels + LABEL_NOISE * tf.random.uniform(tf.shape(labels))

    train_step = kit.two_tape_step(
        tf,
        generator,
        discriminator,
        keras.optimizers.Adam(1e-4),
        keras.optimizers.Adam(1e-4),
        keras.losses.BinaryCrossentropy(),
        NOISE_DIM,
        discriminator_labels,
        tf.ones((batch, 1)),
    )
    compiled = tf.function(train_step, jit_compile=variant == "xla")
    return {"generator": generator, "discriminator": discriminator}, lambda: compiled(next_real())
