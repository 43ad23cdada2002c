"""Validated shape of the DNA configuration (values live in defaults.yaml)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, PositiveInt

from scigan.core.config import (
    AdamBeta,
    RunConfig,
    StepLogConfig,
    StrictModel,
)


class DataConfig(StrictModel):
    path: str | None


class ModelConfig(StrictModel):
    noise_dim: PositiveInt
    generator_hidden: list[PositiveInt]
    discriminator_hidden: list[PositiveInt]
    leaky_slope: float = Field(ge=0)
    head: Literal["linear", "softmax"]


class TrainConfig(StrictModel):
    steps: PositiveInt
    batch_size: PositiveInt
    lr_generator: float = Field(gt=0)
    lr_discriminator: float = Field(gt=0)
    adam_betas: tuple[AdamBeta, AdamBeta]
    adam_eps: float = Field(gt=0)
    real_label: float = Field(ge=0, le=1)
    fake_label: float = Field(ge=0, le=1)
    loss: Literal["bce", "wgan_gp"]
    critic_steps: PositiveInt
    gp_weight: float = Field(ge=0)
    engine: Literal["fused", "autograd"]


class EvaluateConfig(StrictModel):
    n_samples: PositiveInt | None
    kmer_sizes: list[PositiveInt]
    both_strands: bool
    c2st: bool
    markov_orders: list[int]
    loglik_max_order: int = Field(ge=0, le=12)
    markov_pseudocount: float = Field(ge=0)


class DnaConfig(RunConfig):
    data: DataConfig
    model: ModelConfig
    train: TrainConfig
    log: StepLogConfig
    evaluate: EvaluateConfig
