"""Monte Carlo simulation of the 2D Ising model: the engines, exact results, observables and
the data sets `scigan data ising` writes. Independent of the GAN (scigan.ising), which trains
on these data sets."""
