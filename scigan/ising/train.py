"""Training the Ising WGAN-GP (thesis §4.3.3): one GAN per temperature, stacked.

One training step (the thesis's "iteration") is `critic_steps` critic updates followed by one
generator update, each on a batch of `batch_size`. The critic minimizes eq. 3.8,
E[D(G(z))] - E[D(x)] + lambda E[(||grad D(x_hat)|| - 1)^2]; the generator minimizes
-E[D(G(z))]. With `same_real_batch` (the Keras WGAN-GP recipe the thesis followed) all critic
updates of a step see the same real batch with fresh noise; otherwise each draws its own.
An epoch is (training lattices per temperature // batch_size) steps; batches are drawn
uniformly with replacement.

Independence. The GANs of a group share tensors, never numbers: model k draws its initial
weights, real batches, noise, interpolation weights and augmentations from its own streams,
seeded by (seed, index of its temperature in the data set), so a temperature's GAN is the same
whichever group it is trained in (tests/ising/test_train.py checks this).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from scigan.core.errors import ConfigError, InputError
from scigan.core.losses import (
    gradient_penalty,
    wasserstein_critic_loss,
    wasserstein_generator_loss,
)
from scigan.core.steps import (
    OptimizerPair,
    adam_step,
    descend,
    frozen,
    fused_adam,
    linear_decay,
    update_average,
)
from scigan.ising.config import IsingGanConfig
from scigan.ising.models import (
    StackedConvGenerator,
    StackedCritic,
    StackedGenerator,
    StackedMlpGenerator,
)

CONDITIONAL_INDEX = 1_000_000  # stream key of the one conditional model
Generator = StackedGenerator | StackedMlpGenerator | StackedConvGenerator


@dataclass(frozen=True)
class IsingData:
    """Training and held-out lattices per temperature (int8 spins, ±1)."""

    temperatures: np.ndarray  # (n_T,)
    indices: np.ndarray  # (n_T,) index of each temperature in the data set's grid
    train: np.ndarray  # (n_T, n_train, L, L)
    heldout: np.ndarray  # (n_T, n_heldout, L, L)
    chains: int  # Monte Carlo chains per temperature (samples are time-major over them)
    meta: dict[str, Any]

    @property
    def L(self) -> int:
        return int(self.train.shape[-1])


def split_counts(samples: int, heldout_fraction: float) -> tuple[int, int]:
    """(training, held-out) counts: the last `heldout_fraction` of each temperature's samples
    in simulation time are held out (they come after every training sample of each chain)."""
    n_heldout = int(round(samples * heldout_fraction))
    if n_heldout < 1 or n_heldout >= samples:
        raise ConfigError(
            f"data.heldout_fraction = {heldout_fraction} leaves {samples - n_heldout} training "
            f"and {n_heldout} held-out lattices of {samples}",
            "choose a fraction that leaves at least one lattice on each side",
        )
    return samples - n_heldout, n_heldout


def select_temperatures(grid: np.ndarray, wanted: list[float] | None) -> np.ndarray:
    """Indices into the data set's grid of the wanted temperatures (all when None)."""
    if wanted is None:
        return np.arange(len(grid))
    indices = []
    for t in wanted:
        hits = np.flatnonzero(np.abs(grid - t) < 1e-6)
        if hits.size == 0:
            raise ConfigError(
                f"data.temperatures: {t} is not in the data set's grid",
                "choose from: " + ", ".join(f"{g:g}" for g in grid),
            )
        indices.append(int(hits[0]))
    return np.array(indices)


def load_data(path: Path, heldout_fraction: float, temperatures: list[float] | None) -> IsingData:
    import json

    import h5py

    path = Path(path)
    if not path.is_file():
        raise InputError(
            f"Ising data set {path} does not exist",
            "build one with `scigan data ising --out DIR` and pass --data DIR/ising.h5",
        )
    try:
        with h5py.File(path, "r") as store:
            grid = store["temperatures"][:]
            done = store["done"][:]
            params = json.loads(store.attrs["parameters"])
            indices = select_temperatures(grid, temperatures)
            if not done[indices].all():
                raise InputError(
                    f"{path} is incomplete (interrupted simulation)",
                    "re-run the same `scigan data ising` command to finish it",
                )
            spins = np.stack([store["spins"][int(k)] for k in indices])
    except (OSError, KeyError) as exc:
        raise InputError(
            f"{path} is not a `scigan data ising` data set ({exc})",
            "build one with `scigan data ising --out DIR`",
        ) from None
    n_train, _ = split_counts(spins.shape[1], heldout_fraction)
    return IsingData(
        temperatures=grid[indices].astype(np.float64),
        indices=indices,
        train=spins[:, :n_train],
        heldout=spins[:, n_train:],
        chains=int(params["chains"]),
        meta={
            "path": str(path.resolve()),
            "parameters": params,
            "n_train": int(n_train),
            "indices": [int(i) for i in indices],
            "n_heldout": int(spins.shape[1] - n_train),
        },
    )


def stream_seeds(seed: int, index: int) -> dict[str, int]:
    """Independent streams of one model (SeedSequence keyed by seed and temperature index)."""
    names = ("init", "train", "sample", "evaluate")
    states = np.random.SeedSequence([seed, index]).generate_state(len(names), dtype=np.uint64)
    return {name: int(s % (2**63)) for name, s in zip(names, states, strict=True)}


def steps_per_epoch(n_train: int, batch_size: int) -> int:
    return max(1, n_train // batch_size)


def total_steps(cfg: IsingGanConfig, n_train: int) -> int:
    """Generator steps per GAN: train.steps, or train.epochs epochs."""
    t = cfg.train
    if t.steps is not None:
        return t.steps
    if t.epochs is None:
        raise ConfigError("train.steps and train.epochs are both null", "set one of them")
    return max(1, int(round(t.epochs * steps_per_epoch(n_train, t.batch_size))))


def symmetry_permutations(L: int, augment: list[str]) -> Tensor:
    """Site permutations (P, L*L) of the chosen lattice symmetries (translations and/or the
    8 rotations/reflections); row 0 is the identity. Global spin flip is a sign, not a
    permutation, and is drawn separately."""
    sites = torch.arange(L * L).reshape(L, L)
    dihedral = [sites]
    if "dihedral" in augment:
        dihedral = []
        for k in range(4):
            rotated = torch.rot90(sites, k, dims=(0, 1))
            dihedral += [rotated, rotated.transpose(0, 1)]
    shifts = [(0, 0)]
    if "translate" in augment:
        shifts = [(a, b) for a in range(L) for b in range(L)]
    perms = [torch.roll(d, s, dims=(0, 1)).reshape(-1) for d in dihedral for s in shifts]
    return torch.stack(perms)


def fold_sign(x: Tensor) -> Tensor:
    """Each lattice of x (..., L, L) flipped to magnetization >= 0 (sum 0: unchanged). The
    Hamiltonian is symmetric under a global flip, so folding loses nothing; gradients flow
    through x times its lattice's sign."""
    return x * lattice_signs(x)


def lattice_signs(x: Tensor) -> Tensor:
    """(..., 1, 1): +1 for each lattice of x (..., L, L) whose sum is >= 0, else -1."""
    return torch.where(x.sum(dim=(-2, -1), keepdim=True) >= 0, 1.0, -1.0).to(x.dtype)


def augment_lattices(
    x: Tensor, perm_choice: Tensor | None, perms: Tensor | None, flip: Tensor | None
) -> Tensor:
    """Apply per-sample symmetry operations: x (..., L, L); perm_choice/flip (...)."""
    shape = x.shape
    if perm_choice is not None:
        flat = x.reshape(*shape[:-2], -1)
        x = torch.gather(flat, -1, perms[perm_choice]).reshape(shape)
    if flip is not None:
        x = x * flip[..., None, None]
    return x


class WganGpStep(OptimizerPair):
    """One WGAN-GP step of K stacked GANs: critic_steps critic updates, one generator update."""

    def __init__(self, generator: Generator, critic: StackedCritic, cfg: IsingGanConfig):
        t = cfg.train
        self.generator, self.critic = generator, critic
        self.critic_steps, self.gp_weight = t.critic_steps, t.gp_weight
        self.sign_fold = cfg.model.sign_fold
        betas, eps = tuple(t.adam_betas), t.adam_eps
        self.opt_g = fused_adam(generator.parameters(), t.lr_generator, betas, eps)
        self.opt_d = fused_adam(critic.parameters(), t.lr_critic, betas, eps)

    def fold(self, lattices: Tensor) -> Tensor:
        """What the critic sees of any lattice, real or generated: folded to m >= 0 with
        model.sign_fold, as it is otherwise."""
        return fold_sign(lattices) if self.sign_fold else lattices

    def __call__(
        self, real: Tensor, z: Tensor, epsilon: Tensor, t_real: Tensor | None = None
    ) -> dict[str, Tensor]:
        """real (K, draws, B, L, L) with draws 1 or critic_steps; z (K, (critic_steps+1) B, nz);
        epsilon (K, critic_steps, B); t_real (K, draws, B) temperatures for conditional models.
        Returns per-model losses (K,): the last critic update's terms and the generator's."""
        G, D, n = self.generator, self.critic, self.critic_steps
        B = real.shape[2]
        draws = real.shape[1]
        with torch.no_grad():
            t_fake = None if t_real is None else t_real[:, torch.arange(n) % draws].flatten(1, 2)
            fakes = self.fold(G(z[:, : n * B], t_fake))
        for j in range(n):
            x = real[:, j % draws]
            tj = None if t_real is None else t_real[:, j % draws]
            fake = fakes[:, j * B : (j + 1) * B]
            scores = D(torch.cat([x, fake], dim=1), None if tj is None else torch.cat([tj, tj], 1))
            wasserstein = wasserstein_critic_loss(scores[:, :B], scores[:, B:])
            penalty = self.gp_weight * gradient_penalty(
                lambda h, tj=tj: D(h, tj), x, fake, epsilon[:, j, :, None, None], sample_dims=2
            )
            total = wasserstein + penalty
            descend(self.opt_d, total)
        with frozen(D):
            tg = None if t_real is None else t_real[:, 0]
            loss_g = wasserstein_generator_loss(D(self.fold(G(z[:, n * B :], tg)), tg))
            descend(self.opt_g, loss_g)
        return {
            "critic_wasserstein": wasserstein.detach(),
            "critic_gp": penalty.detach(),
            "critic_total": total.detach(),
            "generator": loss_g.detach(),
        }


def gradient_buffers(params: list[Tensor]) -> list[Tensor]:
    """The parameters' .grad tensors, created once and then kept from step to step (steps
    that write gradients by hand fill them in place instead of allocating new ones)."""
    for p in params:
        if p.grad is None:
            p.grad = torch.empty_like(p)
    return [p.grad for p in params]


class FusedWganGpStep(WganGpStep):
    """The same step with the critic's and the generator's gradients by hand (fast_step.py);
    only a conditional generator's noise modulation keeps autograd."""

    def __init__(self, generator: Generator, critic: StackedCritic, cfg: IsingGanConfig):
        from scigan.ising import fast_step as fs

        super().__init__(generator, critic, cfg)
        self.inverse = fs.inverse_neighbours(generator.neighbours)
        self.affine_params = [
            generator.dense_weight,
            generator.dense_bias,
            generator.conv_weight,
            generator.conv_bias,
        ]

    def __call__(
        self, real: Tensor, z: Tensor, epsilon: Tensor, t_real: Tensor | None = None
    ) -> dict[str, Tensor]:
        from scigan.ising import fast_step as fs

        G, D, n = self.generator, self.critic, self.critic_steps
        B, draws = real.shape[2], real.shape[1]
        params = list(D.parameters())
        with torch.no_grad():
            # the generator's affine map, once per step: its weights do not change before the
            # generator update
            A, b = G.affine_map()
            t_fake = None if t_real is None else t_real[:, torch.arange(n) % draws].flatten(1, 2)
            fakes = self.fold(G.from_affine(A, b, z[:, : n * B], t_fake))
            K = real.shape[0]
            weights = torch.cat(
                [torch.full((K, B), -1.0 / B), torch.full((K, B), 1.0 / B), torch.zeros(K, B)],
                dim=1,
            ).to(real.device, real.dtype)
            for j in range(n):
                x = real[:, j % draws]
                fake = fakes[:, j * B : (j + 1) * B]
                eps = epsilon[:, j, :, None, None]
                x_hat = eps * x + (1 - eps) * fake
                tj = None if t_real is None else t_real[:, j % draws].repeat(1, 3)
                record = fs.critic_forward(D, torch.cat([x, fake, x_hat], dim=1), tj)
                scores = record.scores
                wasserstein = wasserstein_critic_loss(scores[:, :B], scores[:, B : 2 * B])
                grads = fs.score_gradients(D, record, weights)
                penalty, gp_grads = fs.penalty_gradients(
                    D, record, slice(2 * B, 3 * B), self.gp_weight
                )
                for buffer, g1, g2 in zip(gradient_buffers(params), grads, gp_grads, strict=True):
                    torch.add(g1, g2, out=buffer)
                adam_step(self.opt_d)
            total = wasserstein + penalty
            tg = None if t_real is None else t_real[:, 0]
        z_g = G.modulate(z[:, n * B :], tg)  # autograd only where conditional
        with torch.no_grad():
            pre = torch.baddbmm(b, z_g, A)
            lattices = G.activate(pre)
            signs = lattice_signs(lattices) if self.sign_fold else None
            record = fs.critic_forward(D, lattices if signs is None else lattices * signs, tg)
            loss_g = wasserstein_generator_loss(record.scores)
            grad_out = -fs.input_gradient(D, record) / B  # (K, B, P)
            if signs is not None:
                grad_out = grad_out * signs.reshape(K, B, 1)
            grad_pre = fs.output_backward(G, pre, grad_out)
            fs.generator_gradients(
                G, z_g, grad_pre, self.inverse, out=gradient_buffers(self.affine_params)
            )
        if z_g.requires_grad:
            for p in G.parameters():
                if all(p is not q for q in self.affine_params):
                    p.grad = None
            z_g.backward(torch.bmm(grad_pre, A.transpose(1, 2)))
        adam_step(self.opt_g)
        return {
            "critic_wasserstein": wasserstein,
            "critic_gp": penalty,
            "critic_total": total,
            "generator": loss_g,
        }


def make_step(cfg: IsingGanConfig, generator: Generator, critic: StackedCritic):
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
        return FusedWganGpStep(generator, critic, cfg)
    return WganGpStep(generator, critic, cfg)


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


def loss_key(name: str, temperature: float | None) -> str:
    return name if temperature is None else f"{name}/T={temperature:.4g}"


class IsingGanTask:
    """K stacked per-temperature GANs (or the one conditional GAN); see core.trainer.GANTask.

    temperatures/indices: the group's temperatures and their indices in the data set grid;
    train: (K, n_train, L, L) int8 (conditional: all temperatures of the data, K = 1 model).
    """

    def __init__(
        self,
        cfg: IsingGanConfig,
        temperatures: np.ndarray,
        indices: np.ndarray,
        train: np.ndarray,
        device: torch.device,
    ):
        self.cfg, self.device = cfg, device
        self.conditional = cfg.model.conditional
        self.temperatures = np.asarray(temperatures, dtype=np.float64)
        keys = [CONDITIONAL_INDEX] if self.conditional else [int(i) for i in indices]
        K = len(keys)
        L = int(train.shape[-1])
        seeds = [stream_seeds(cfg.seed, k) for k in keys]
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
        self.step = make_step(cfg, self.generator, self.critic)
        self.steps_done, self.total_steps = 0, total_steps(cfg, int(train.shape[1]))
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
        fixed = torch.Generator().manual_seed(seeds[0]["sample"])
        n = cfg.log.sample_count
        self.fixed_noise = torch.randn(K, n, cfg.model.noise_dim, generator=fixed).to(device)
        names = [None] if self.conditional else list(self.temperatures)
        self.keys = {
            loss: [loss_key(loss, t) for t in names]
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
        K = self.real.shape[0]
        idx = r["idx"]
        real = self.real[torch.arange(K, device=self.device)[:, None, None], idx].float()
        real = augment_lattices(
            real, r.get("perm"), self.perms, r["flip"].float() if "flip" in r else None
        )
        real = self.step.fold(real)
        t_real = None
        if self.conditional:
            t_real = self.t_grid.to(self.device)[idx // self.n_per_t]
        if self.cfg.train.lr_schedule == "linear":
            factor = linear_decay(self.steps_done, self.total_steps, self.cfg.train.lr_decay_start)
            t = self.cfg.train
            for opt, lr in ((self.step.opt_g, t.lr_generator), (self.step.opt_d, t.lr_critic)):
                for group in opt.param_groups:
                    group["lr"] = lr * factor
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
        }
        if self.generator_average is not None:
            state["generator_average"] = self.generator_average.state_dict()
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.steps_done = int(state.get("steps_done", 0))
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
        generator = self.generator if self.generator_average is None else self.generator_average
        # with model.sign_fold the grids show what the critic sees: lattices folded to m >= 0
        spins = to_spins(self.step.fold(generator(self.fixed_noise, t))).cpu().numpy()
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(
            directory / f"step_{step:07d}.npz", spins=spins, temperatures=self.temperatures
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
