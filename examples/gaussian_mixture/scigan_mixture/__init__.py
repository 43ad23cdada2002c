"""A toy scigan case study: a small GAN learns a 1-D mixture of three Gaussians."""
