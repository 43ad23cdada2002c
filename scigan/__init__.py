"""scigan: generative adversarial networks on scientific data, measured against real data."""

__version__ = "0.1.0"
