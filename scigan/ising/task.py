"""Training the Ising WGAN-GP (thesis §4.3.3): one GAN per temperature, stacked.

A training step is the chosen engine's (engines/). An epoch is (training lattices per
temperature // batch_size) steps; batches are drawn uniformly with replacement.

Independence. The GANs of a group share tensors, never numbers: model k draws its initial
weights, real batches, noise, interpolation weights and augmentations from its own streams,
seeded by (seed, index of its temperature in the data set), so a temperature's GAN is the same
whichever group it is trained in (tests/ising/test_task.py checks this).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from scigan.core.errors import ConfigError
from scigan.core.loop import steps_per_epoch
from scigan.core.seeds import derive_seeds
from scigan.core.steps import linear_decay, update_average
from scigan.ising.augmentation import augment_lattices, fold_sign, symmetry_permutations
from scigan.ising.config import IsingGanConfig
from scigan.ising.critic import StackedCritic
from scigan.ising.engines.autograd import WganGpStep
from scigan.ising.engines.fused import FusedWganGpStep
from scigan.ising.generators import (
    Generator,
    StackedConvGenerator,
    StackedGenerator,
    StackedMlpGenerator,
)

CONDITIONAL_INDEX = 1_000_000  # stream key of the one conditional model


def stream_seeds(seed: int, index: int) -> dict[str, int]:
    """Independent streams of one model, keyed by the run seed and its temperature index."""
    return derive_seeds([seed, index], ("init", "train", "sample", "evaluate"))


def total_steps(cfg: IsingGanConfig, n_train: int) -> int:
    """Generator steps per GAN: train.steps, or train.epochs epochs."""
    t = cfg.train
    if t.steps is not None:
        return t.steps
    if t.epochs is None:
        raise ConfigError("train.steps and train.epochs are both null", "set one of them")
    return max(1, int(round(t.epochs * steps_per_epoch(n_train, t.batch_size))))


def make_step(
    cfg: IsingGanConfig,
    generator: Generator,
    critic: StackedCritic,
    members: list[IsingGanConfig] | None = None,
):
    if cfg.train.engine == "fused":
        m = cfg.model
        if m.generator != "thesis" or m.critic_pool != "max" or m.critic_physics_features:
            raise ConfigError(
                f"train.engine fused computes the gradients of Table 6-7 models only "
                f"(model.generator thesis, model.critic_pool max, no critic_physics_features),"
                f" not generator {m.generator} with critic_pool {m.critic_pool} and "
                f"critic_physics_features {m.critic_physics_features}",
                "set train.engine=autograd (or go back to the thesis models)",
            )
        return FusedWganGpStep(generator, critic, cfg, members)
    return WganGpStep(generator, critic, cfg, members)


def build_models(cfg: IsingGanConfig, models: int, L: int) -> tuple[Generator, StackedCritic]:
    m = cfg.model
    if m.generator == "conv":
        generator = StackedConvGenerator(
            models, L, m.noise_dim, tuple(m.generator_hidden), m.kernel, m.padding, m.output,
            m.conditional, m.leaky_slope, m.straight_through,
        )  # fmt: skip
    elif m.generator == "mlp":
        generator = StackedMlpGenerator(
            models, L, m.noise_dim, tuple(m.generator_hidden), m.output, m.conditional,
            m.leaky_slope, m.straight_through,
        )  # fmt: skip
    else:
        generator = StackedGenerator(
            models, L, m.noise_dim, m.generator_channels, m.kernel, m.padding, m.output,
            m.conditional, m.condition_hidden, m.leaky_slope, m.straight_through,
        )  # fmt: skip
    critic = StackedCritic(
        models, L, m.critic_channels, m.critic_hidden, m.kernel, m.padding, m.leaky_slope,
        m.conditional, m.critic_pool, m.critic_physics_features,
    )  # fmt: skip
    return generator, critic


def loss_key(name: str, temperature: float | None, member: int | None = None) -> str:
    """A logged loss's name: per temperature, and (a stack of a sweep's points) per member,
    "NAME/T=0.4@3" (scigan.sweep.stacks gives each point its own names back)."""
    key = name if temperature is None else f"{name}/T={temperature:.4g}"
    return key if member is None else f"{key}@{member}"


class IsingGanTask:
    """K stacked per-temperature GANs (or the one conditional GAN); see core.trainer.GANTask.

    temperatures/indices: the group's temperatures and their indices in the data set grid;
    train: (K, n_train, L, L) int8 (conditional: all temperatures of the data, K = 1 model).

    members: a stack of a sweep's points (configs differing only in IsingCaseStudy.stack_keys;
    cfg is the first). Their models are stacked block-major, one block of K per member, each
    model with its member's seed streams, rates and penalty weight: a member's block trains
    as that point alone would.
    """

    def __init__(
        self,
        cfg: IsingGanConfig,
        temperatures: np.ndarray,
        indices: np.ndarray,
        train: np.ndarray,
        device: torch.device,
        members: list[IsingGanConfig] | None = None,
    ):
        members = list(members or [cfg])
        self.cfg, self.device, self.members = cfg, device, members
        self.conditional = cfg.model.conditional
        self.temperatures = np.asarray(temperatures, dtype=np.float64)
        keys = [CONDITIONAL_INDEX] if self.conditional else [int(i) for i in indices]
        per = len(keys)  # models of one member
        K = per * len(members)
        L = int(train.shape[-1])
        seeds = [stream_seeds(m.seed, k) for m in members for k in keys]
        init = [torch.Generator().manual_seed(s["init"]) for s in seeds]
        self.rngs = [torch.Generator().manual_seed(s["train"]) for s in seeds]
        generator, critic = build_models(cfg, K, L)
        generator.reset_parameters(init)
        critic.reset_parameters(init)
        self.generator, self.critic = generator.to(device), critic.to(device)
        if self.conditional:
            self.real = torch.from_numpy(np.ascontiguousarray(train)).reshape(1, -1, L, L)
            self.n_per_t = train.shape[1]
            self.t_grid = torch.tensor(self.temperatures, dtype=torch.float32)
        else:
            self.real = torch.from_numpy(np.ascontiguousarray(train))
        self.real = self.real.to(device)
        # the row of self.real each model trains on: the members share the lattices
        self.real_rows = torch.arange(per, device=device).repeat(len(members))
        augment = cfg.data.augment
        self.perms = None
        if "translate" in augment or "dihedral" in augment:
            self.perms = symmetry_permutations(L, augment).to(device)
        self.flip = "flip" in augment
        if self.flip and cfg.model.sign_fold:
            raise ConfigError(
                "data.augment flip does nothing with model.sign_fold: every lattice is folded "
                "to m >= 0 before the critic sees it",
                "drop flip from data.augment (sampling still gives both signs)",
            )
        self.step = make_step(cfg, self.generator, self.critic, members)
        self.steps_done, self.total_steps = 0, total_steps(cfg, int(train.shape[1]))
        self.lr_factor = 1.0  # the schedule's factor of the rates at the last step
        t = cfg.train
        if t.lr_schedule == "linear" and t.lr_decay_start >= self.total_steps:
            raise ConfigError(
                f"train.lr_decay_start {t.lr_decay_start} is not before the run's last step "
                f"({self.total_steps} steps): the rates would never decay",
                "set train.lr_decay_start below the number of steps (0: decay from the start)",
            )
        self.generator_average = None
        if cfg.train.generator_average > 0:
            self.generator_average = copy.deepcopy(self.generator).requires_grad_(False)
        n = cfg.log.sample_count
        noise = []
        for b in range(len(members)):  # each member's from its own first stream
            fixed = torch.Generator().manual_seed(seeds[b * per]["sample"])
            noise.append(torch.randn(per, n, cfg.model.noise_dim, generator=fixed))
        self.fixed_noise = torch.cat(noise).to(device)
        names = [None] if self.conditional else list(self.temperatures)
        tags = [None] if len(members) == 1 else list(range(len(members)))
        self.keys = {
            loss: [loss_key(loss, t, b) for b in tags for t in names]
            for loss in ("critic_wasserstein", "critic_gp", "critic_total", "generator")
        }

    def draw(self) -> dict[str, Tensor]:
        """This step's random numbers, model by model from each model's own stream."""
        t, m = self.cfg.train, self.cfg.model
        B, n = t.batch_size, t.critic_steps
        draws = 1 if t.same_real_batch else n
        rows = self.real.shape[1]
        out: dict[str, list[Tensor]] = {"idx": [], "z": [], "eps": [], "perm": [], "flip": []}
        for rng in self.rngs:
            out["idx"].append(torch.randint(0, rows, (draws, B), generator=rng))
            out["z"].append(torch.randn((n + 1) * B, m.noise_dim, generator=rng))
            out["eps"].append(torch.rand(n, B, generator=rng))
            if self.perms is not None:
                out["perm"].append(torch.randint(0, len(self.perms), (draws, B), generator=rng))
            if self.flip:
                out["flip"].append(torch.randint(0, 2, (draws, B), generator=rng) * 2 - 1)
        return {k: torch.stack(v).to(self.device) for k, v in out.items() if v}

    def train_step(self) -> dict[str, Tensor]:
        r = self.draw()
        idx = r["idx"]
        real = self.real[self.real_rows[:, None, None], idx].float()
        real = augment_lattices(
            real, r.get("perm"), self.perms, r["flip"].float() if "flip" in r else None
        )
        real = self.step.fold(real)
        t_real = None
        if self.conditional:
            t_real = self.t_grid.to(self.device)[idx // self.n_per_t]
        if self.cfg.train.lr_schedule == "linear":
            factor = linear_decay(self.steps_done, self.total_steps, self.cfg.train.lr_decay_start)
            self.lr_factor = factor
            t = self.cfg.train
            for opt, lr in ((self.step.opt_g, t.lr_generator), (self.step.opt_d, t.lr_critic)):
                for group in opt.param_groups:
                    group["lr"] = lr * factor
            for blocks, rate in (
                (self.step.blocks_g, "lr_generator"),
                (self.step.blocks_d, "lr_critic"),
            ):
                for block, member in zip(blocks or [], self.members, strict=False):
                    block.lr = getattr(member.train, rate) * factor
        losses = self.step(real, r["z"], r["eps"], t_real)
        self.steps_done += 1
        if self.generator_average is not None:
            update_average(self.generator_average, self.generator, self.cfg.train.generator_average)
        out = {}
        for name, values in losses.items():
            out.update(zip(self.keys[name], values.unbind(), strict=True))
        return out

    def state_dict(self) -> dict[str, Any]:
        state = {
            "generator": self.generator.state_dict(),
            "critic": self.critic.state_dict(),
            "step": self.step.state_dict(),
            "rngs": [r.get_state() for r in self.rngs],
            "temperatures": torch.tensor(self.temperatures),
            "steps_done": self.steps_done,
            "lr_factor": self.lr_factor,
        }
        if self.generator_average is not None:
            state["generator_average"] = self.generator_average.state_dict()
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.steps_done = int(state.get("steps_done", 0))
        self.lr_factor = float(state.get("lr_factor", 1.0))
        self.generator.load_state_dict(state["generator"])
        if self.generator_average is not None:
            # a run resumed with the average newly switched on starts it from the weights here
            self.generator_average.load_state_dict(
                state.get("generator_average", state["generator"])
            )
        self.critic.load_state_dict(state["critic"])
        self.step.load_state_dict(state["step"])
        for rng, s in zip(self.rngs, state["rngs"], strict=True):
            rng.set_state(s)

    @torch.no_grad()
    def write_samples(self, step: int, directory: Path) -> None:
        t = None
        if self.conditional:
            n = self.fixed_noise.shape[1]
            t = self.t_grid[torch.arange(n) % len(self.t_grid)][None].to(self.device)
            t = t.expand(len(self.members), -1)
        generator = self.generator if self.generator_average is None else self.generator_average
        # with model.sign_fold the grids show what the critic sees: lattices folded to m >= 0
        spins = to_spins(self.step.fold(generator(self.fixed_noise, t))).cpu().numpy()
        directory = Path(directory)
        members = len(self.members)
        for b, part in enumerate(np.split(spins, members)):  # a stack: one folder per member
            folder = directory if members == 1 else directory / f"member_{b:03d}"
            folder.mkdir(parents=True, exist_ok=True)
            np.savez_compressed(
                folder / f"step_{step:07d}.npz", spins=part, temperatures=self.temperatures
            )


def to_spins(x: Tensor) -> Tensor:
    """The rule mapping generator outputs to spins: +1 where x >= 0, -1 where x < 0 (int8).

    Exactly 0 maps to +1: deterministic, and a tanh output of exactly 0 has probability 0."""
    return torch.where(x >= 0, 1, -1).to(torch.int8)


@torch.no_grad()
def generate(
    generator: Generator,
    n: int,
    seeds: list[int],
    device: torch.device,
    temperatures: Tensor | None = None,
    batch: int = 4096,
    sign_fold: bool = False,
) -> np.ndarray:
    """n spin lattices (K, n, L, L) int8 from each stacked model, model k's noise from
    seeds[k]. Conditional generators: `temperatures` (K, n) gives each sample's T. With
    `sign_fold` (a generator trained on folded lattices) each lattice is folded to m >= 0 and
    then given a random global sign from the same stream."""
    generator.eval()
    rngs = [torch.Generator().manual_seed(s) for s in seeds]
    out = []
    for start in range(0, n, batch):
        size = min(batch, n - start)
        z = torch.stack([torch.randn(size, generator.noise_dim, generator=r) for r in rngs])
        t = None if temperatures is None else temperatures[:, start : start + size].to(device)
        x = generator(z.to(device), t)
        if sign_fold:
            signs = torch.stack([torch.randint(0, 2, (size,), generator=r) for r in rngs])
            x = fold_sign(x) * (2 * signs - 1).to(x)[..., None, None]
        out.append(to_spins(x).cpu().numpy())
    return np.concatenate(out, axis=1)


def stack_member_state(
    task_state: dict[str, Any], member: int, members: int, config: IsingGanConfig
) -> dict[str, Any]:
    """Member `member`'s part of a stacked IsingGanTask.state_dict(): its block of every
    model tensor and random stream, and its optimizers' state with its own settings, as
    training it alone saves them (tests/ising/test_task.py compares the two)."""

    def part(t: Tensor) -> Tensor:
        n = t.shape[0] // members
        return t[member * n : (member + 1) * n].clone()  # a copy: a view saves its whole base

    def weights(state: dict[str, Tensor]) -> dict[str, Tensor]:
        return {k: part(v) for k, v in state.items()}

    t = config.train
    factor = float(task_state.get("lr_factor", 1.0))  # the rates' factor at the last step

    def optimizer(state: dict[str, Any], lr: float) -> dict[str, Any]:
        per_param = {
            i: {k: (v.clone() if k == "step" else part(v)) for k, v in s.items()}
            for i, s in state["state"].items()
        }
        groups = [
            {**g, "lr": lr * factor, "betas": tuple(t.adam_betas), "eps": t.adam_eps}
            for g in state["param_groups"]
        ]
        return {"state": per_param, "param_groups": groups}

    out = dict(task_state)
    out["generator"] = weights(task_state["generator"])
    out["critic"] = weights(task_state["critic"])
    if "generator_average" in task_state:
        out["generator_average"] = weights(task_state["generator_average"])
    out["step"] = {
        "opt_g": optimizer(task_state["step"]["opt_g"], t.lr_generator),
        "opt_d": optimizer(task_state["step"]["opt_d"], t.lr_critic),
    }
    n = len(task_state["rngs"]) // members
    out["rngs"] = [r.clone() for r in task_state["rngs"][member * n : (member + 1) * n]]
    return out


def stack_bytes(cfg: IsingGanConfig, L: int, temperatures: int) -> int:
    """Memory of one point in a stack: its largest group's GANs, each with its weights,
    gradients and two Adam moments (16 bytes a weight) and ~2 MB of the step's temporaries
    (at batch 64; they grow with the batch)."""
    generator, critic = build_models(cfg, 1, L)
    weights = sum(p.numel() for p in [*generator.parameters(), *critic.parameters()])
    models = 1 if cfg.model.conditional else min(cfg.train.group_size, temperatures)
    temporaries = 2_000_000 * max(1, cfg.train.batch_size // 64)
    return models * (16 * weights + temporaries)
