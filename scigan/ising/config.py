"""Validated shape of the Ising GAN configuration (values live in defaults.yaml, the thesis
recipe). The Monte Carlo data set (`scigan data ising`) has its own defaults in
scigan/montecarlo/defaults.yaml.
"""

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
    heldout_fraction: float = Field(gt=0, lt=1)
    temperatures: list[float] | None
    augment: list[Literal["flip", "translate", "dihedral"]]


class ModelConfig(StrictModel):
    noise_dim: PositiveInt
    generator: Literal["thesis", "mlp", "conv"]
    generator_channels: PositiveInt
    generator_hidden: list[PositiveInt]
    critic_channels: PositiveInt
    critic_hidden: PositiveInt
    critic_pool: Literal["max", "mean", "meanmax"]
    critic_physics_features: bool
    kernel: PositiveInt
    padding: Literal["zeros", "circular"]
    output: Literal["tanh", "linear"]
    straight_through: bool
    sign_fold: bool
    leaky_slope: float = Field(ge=0)
    conditional: bool
    condition_hidden: PositiveInt


class TrainConfig(StrictModel):
    epochs: float | None = Field(gt=0)
    steps: PositiveInt | None
    batch_size: PositiveInt
    critic_steps: PositiveInt
    gp_weight: float = Field(ge=0)
    lr_generator: float = Field(gt=0)
    lr_critic: float = Field(gt=0)
    adam_betas: tuple[AdamBeta, AdamBeta]
    adam_eps: float = Field(gt=0)
    same_real_batch: bool
    lr_schedule: Literal["constant", "linear"]
    lr_decay_start: int = Field(ge=0)
    generator_average: float = Field(ge=0, lt=1)
    group_size: PositiveInt
    engine: Literal["fused", "autograd"]


class EvaluateConfig(StrictModel):
    n_samples: PositiveInt | None
    loss_window: PositiveInt


class IsingGanConfig(RunConfig):
    data: DataConfig
    model: ModelConfig
    train: TrainConfig
    log: StepLogConfig
    evaluate: EvaluateConfig
