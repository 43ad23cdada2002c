"""Sublattice Metropolis in torch: every site of one colour of every chain updated in one
tensor operation. Device-agnostic (CUDA when present, tested on CPU against exact results).

Same rule and colouring as the numba kernels (kernels.py), including the T = 0 rule: acceptance is
1 for dE <= 0 and exp(-dE/T) (0 at T = 0) for dE > 0. Random numbers come from one torch
generator per batch, seeded from a SeedSequence keyed by the batch's temperature indices.
"""

from __future__ import annotations

import numpy as np
import torch

from scigan.montecarlo.lattice import boltzmann_factor, lattice_colouring


def resolve_device(device: str) -> str:
    """'auto' -> 'cuda' when torch sees a GPU, else 'cpu'; other names are checked."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError("device cuda requested but torch sees no GPU; use --device cpu")
    if device != "cpu" and not device.startswith("cuda"):
        raise ValueError(f"unknown device {device!r}; choose auto, cpu or cuda")
    return device


class TorchChains:
    """Chains of a batch of temperatures (one per chain) as one (chains, L, L) int8 tensor."""

    algorithm = "sublattice"

    def __init__(
        self, L: int, temperatures, seed: int, temperature_indices, start: str, device: str = "cpu"
    ):
        self.L = L
        self.device = torch.device(device)
        key = (len(temperature_indices), *temperature_indices, 1 << 30)  # distinct from numba keys
        torch_seed = int(np.random.SeedSequence(seed, spawn_key=key).generate_state(1)[0])
        self.generator = torch.Generator(device=self.device).manual_seed(torch_seed)
        t = np.asarray(temperatures, dtype=np.float64)
        probs = np.stack([boltzmann_factor(t, 4.0), boltzmann_factor(t, 8.0)], axis=1)
        # acceptance by x = s * (sum of neighbours) / 2 in {-2..2}: 1 for x <= 0, p4, p8
        table = np.ones((t.size, 5), dtype=np.float32)
        table[:, 3:] = probs
        self.acceptance = torch.as_tensor(table, device=self.device)
        colouring = torch.as_tensor(lattice_colouring(L).astype(np.int64), device=self.device)
        self.masks = [colouring == c for c in range(int(colouring.max()) + 1)]
        shape = (t.size, L, L)
        if start == "hot":
            bits = torch.randint(0, 2, shape, generator=self.generator, device=self.device)
            self.spins = (2 * bits - 1).to(torch.int8)
        else:
            self.spins = torch.ones(shape, dtype=torch.int8, device=self.device)
        self.rows = torch.arange(t.size, device=self.device)[:, None, None]

    def sweep(self, n_sweeps: int) -> int:
        if self.device.type != "cpu":
            return self._sweep(n_sweeps)
        # On the CPU these small element-wise ops gain nothing from intra-op threads, and with
        # other work on the cores the spinning threads made them ~50x slower: run on one.
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            return self._sweep(n_sweeps)
        finally:
            torch.set_num_threads(threads)

    def _sweep(self, n_sweeps: int) -> int:
        s = self.spins
        for _ in range(max(n_sweeps, 0)):
            for mask in self.masks:
                field = s.roll(1, 1) + s.roll(-1, 1) + s.roll(1, 2) + s.roll(-1, 2)
                half_delta = (s * field).long() // 2 + 2  # index 0..4 for x = -2..2
                p = self.acceptance[self.rows, half_delta]
                u = torch.rand(s.shape, generator=self.generator, device=self.device)
                s = torch.where(mask & (u < p), -s, s)
        self.spins = s
        return s.numel() * max(n_sweeps, 0)

    equilibrate = sweep

    def global_flip(self) -> None:
        flips = torch.randint(
            0, 2, (self.spins.shape[0], 1, 1), generator=self.generator, device=self.device
        )
        self.spins = self.spins * (1 - 2 * flips).to(torch.int8)

    def lattices(self) -> np.ndarray:
        return self.spins.cpu().numpy().astype(np.int8)
