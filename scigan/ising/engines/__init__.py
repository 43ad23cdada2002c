"""The Ising GAN's training steps (train.engine): one WGAN-GP step of K stacked GANs.

One training step (the thesis's "iteration") is `critic_steps` critic updates followed by one
generator update, each on a batch of `batch_size`. The critic minimizes eq. 3.8,
E[D(G(z))] - E[D(x)] + lambda E[(||grad D(x_hat)|| - 1)^2]; the generator minimizes
-E[D(G(z))]. With `same_real_batch` (the Keras WGAN-GP recipe the thesis followed) all critic
updates of a step see the same real batch with fresh noise; otherwise each draws its own.

autograd.py (WganGpStep): the reference engine, plain autograd through any of the models.
fused.py (FusedWganGpStep): the same step, its gradients written by hand for the models of
Tables 6-7. Both keep their optimizers' state in the same checkpoint format.
"""
