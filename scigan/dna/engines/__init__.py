"""The DNA GAN's training steps (train.engine): one iteration, a discriminator update on a
merged batch of real and generated windows, then a generator update through it.

autograd.py (AutogradDnaGanStep): the reference, plain autograd and torch.optim.Adam.
fused.py (DnaGanStep): the same iteration with its backward passes and Adam written by hand
into preallocated buffers (flat.py holds its parameter storage). Both write the same
checkpoint format, so a run resumes with either engine.
"""
