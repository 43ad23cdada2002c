"""A straightforward Keras implementation of the thesis Ising WGAN-GP, timed by
`benchmarks.keras_harness` under an interpreter with TensorFlow
(``python -m benchmarks --keras-python``).

Tables 6-7 in Keras (generator: Dense 10368 -> reshape 9 x 9 x 128 -> Conv2D 1, k3 "same" ->
tanh; critic: Conv2D 64, k3 "same" -> LeakyReLU 0.3 -> GlobalMaxPool -> Dense 100 -> LeakyReLU
-> Dense 1) with the ``train_step`` of the Keras WGAN-GP example: five critic updates, each on
fresh noise and the step's real batch, with the gradient penalty (weight 10) through a nested
``GradientTape``, then one generator update; Adam 1e-4 (generator) and 1e-6 (critic), batch 64.
One GAN (one temperature). TensorFlow and Keras come in as arguments: this file must not import
them (nor torch).

Training styles (``VARIANTS``): ``tf_function`` and ``xla`` (``jit_compile=True``).
"""

L, NOISE_DIM, CHANNELS = 9, 128, 128
PARAMETERS = {"generator": 1_338_625, "critic": 7_241}
VARIANTS = ("tf_function", "xla")
CRITIC_STEPS, GP_WEIGHT, SLOPE = 5, 10.0, 0.3


def _models(keras):
    layers = keras.layers
    generator = keras.Sequential(
        [
            keras.Input((NOISE_DIM,)),
            layers.Dense(L * L * CHANNELS),
            layers.Reshape((L, L, CHANNELS)),
            layers.Conv2D(1, 3, padding="same", activation="tanh"),
        ]
    )
    critic = keras.Sequential(
        [
            keras.Input((L, L, 1)),
            layers.Conv2D(64, 3, padding="same"),
            layers.LeakyReLU(SLOPE),
            layers.GlobalMaxPooling2D(),
            layers.Dense(100),
            layers.LeakyReLU(SLOPE),
            layers.Dense(1),
        ]
    )
    return generator, critic


def build(kit, batch: int, variant: str, seed: int):
    import numpy as np

    tf, keras = kit.tf, kit.keras
    pool = 32 * batch  # random spin lattices cycled through, as a data set would be
    rng = np.random.default_rng(seed)
    real = np.where(rng.random((pool, L, L, 1)) < 0.5, 1.0, -1.0).astype(np.float32)
    generator, critic = _models(keras)
    opt_g, opt_c = keras.optimizers.Adam(1e-4), keras.optimizers.Adam(1e-6)
    next_real = kit.cycled_batches(real, batch)

    def gradient_penalty(x_real, x_fake):
        alpha = tf.random.uniform((batch, 1, 1, 1), 0.0, 1.0)
        mixed = x_real + alpha * (x_fake - x_real)
        with tf.GradientTape() as tape:
            tape.watch(mixed)
            score = critic(mixed, training=True)
        grads = tape.gradient(score, mixed)
        norm = tf.sqrt(tf.reduce_sum(tf.square(grads), axis=[1, 2, 3]))
        return tf.reduce_mean((norm - 1.0) ** 2)

    def train_step(x_real):
        for _ in range(CRITIC_STEPS):
            with tf.GradientTape() as tape:
                x_fake = generator(tf.random.normal((batch, NOISE_DIM)), training=True)
                cost = tf.reduce_mean(critic(x_fake, training=True)) - tf.reduce_mean(
                    critic(x_real, training=True)
                )
                loss_c = cost + GP_WEIGHT * gradient_penalty(x_real, x_fake)
            weights = critic.trainable_variables
            opt_c.apply_gradients(zip(tape.gradient(loss_c, weights), weights, strict=True))
        with tf.GradientTape() as tape:
            x_fake = generator(tf.random.normal((batch, NOISE_DIM)), training=True)
            loss_g = -tf.reduce_mean(critic(x_fake, training=True))
        weights = generator.trainable_variables
        opt_g.apply_gradients(zip(tape.gradient(loss_g, weights), weights, strict=True))
        return loss_g

    compiled = tf.function(train_step, jit_compile=variant == "xla")
    return {"generator": generator, "critic": critic}, lambda: compiled(next_real())
