"""Validated shape of the blob configuration (values live in defaults.yaml)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, PositiveInt

from scigan.core.config import (
    AdamBeta,
    Probability,
    RunConfig,
    StrictModel,
)


class DataConfig(StrictModel):
    path: str | None
    n_train: PositiveInt
    n_heldout: PositiveInt


class ModelConfig(StrictModel):
    noise_dim: PositiveInt
    leaky_slope: float = Field(ge=0)
    dropout: float = Field(ge=0, lt=1)


class TrainConfig(StrictModel):
    epochs: PositiveInt
    batch_size: PositiveInt
    lr_generator: float = Field(gt=0)
    lr_discriminator: float = Field(gt=0)
    adam_betas: tuple[AdamBeta, AdamBeta]
    adam_eps: float = Field(gt=0)
    real_label: Probability
    fake_label: Probability
    label_noise: float = Field(ge=0)
    precision: Literal["fp32", "bf16"]
    channels_last: bool


class LogConfig(StrictModel):
    every: PositiveInt
    checkpoint_every_epochs: PositiveInt
    checkpoint_seconds: float = Field(default=60.0, gt=0)  # and at least this often
    grid_every_epochs: int = Field(ge=0)
    grid_count: PositiveInt
    tensorboard: bool


class EncoderConfig(StrictModel):
    features: PositiveInt
    epochs: PositiveInt
    n_images: PositiveInt
    batch_size: PositiveInt
    lr: float = Field(gt=0)


class CollapseRule(StrictModel):
    min_diversity_ratio: float = Field(ge=0)
    max_duplicate_rate: float = Field(ge=0, le=1)
    duplicate_quantile: float = Field(gt=0, lt=1)


class EvaluateConfig(StrictModel):
    n_samples: PositiveInt | None
    peak_threshold: float = Field(ge=0)
    prdc_k: PositiveInt
    kd_subsets: PositiveInt
    kd_subset_size: PositiveInt
    copy_quantile: float = Field(gt=0, lt=1)
    collapse: CollapseRule
    encoder: EncoderConfig


class BlobsConfig(RunConfig):
    data: DataConfig
    model: ModelConfig
    train: TrainConfig
    log: LogConfig
    evaluate: EvaluateConfig
