"""The feature encoder of the FD, KD and PRDC metrics: a small convolutional autoencoder trained
on the real training images inside scigan (nothing is downloaded). Its bottleneck is the feature
vector. It is trained once per data set and encoder config, on one thread from a fixed seed
(so it is the same on every machine run with the same library versions), saved atomically
beside the data file and loaded with weights_only; every evaluation of runs on that data set then
uses the same weights, and metrics.json records their content hash.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from scigan.core.checkpoint import load_checkpoint, save_checkpoint

ARCH_VERSION = 1


class AutoEncoder(nn.Module):
    def __init__(self, image_size: int = 32, features: int = 64):
        super().__init__()
        side = image_size // 8
        self.side = side
        self.encoder = nn.Sequential(
            nn.Conv2d(1, 16, 4, stride=2, padding=1),
            nn.LeakyReLU(0.2),
            nn.Conv2d(16, 32, 4, stride=2, padding=1),
            nn.LeakyReLU(0.2),
            nn.Conv2d(32, 32, 4, stride=2, padding=1),
            nn.LeakyReLU(0.2),
            nn.Flatten(),
            nn.Linear(32 * side * side, features),
        )
        self.decoder_dense = nn.Linear(features, 32 * side * side)
        self.decoder = nn.Sequential(
            nn.LeakyReLU(0.2),
            nn.ConvTranspose2d(32, 32, 4, stride=2, padding=1),
            nn.LeakyReLU(0.2),
            nn.ConvTranspose2d(32, 16, 4, stride=2, padding=1),
            nn.LeakyReLU(0.2),
            nn.ConvTranspose2d(16, 1, 4, stride=2, padding=1),
        )

    def encode(self, x: Tensor) -> Tensor:
        return self.encoder(x)

    def forward(self, x: Tensor) -> Tensor:
        h = self.decoder_dense(self.encode(x)).view(-1, 32, self.side, self.side)
        return self.decoder(h)


@dataclass(frozen=True)
class EncoderSpec:
    """How the encoder is trained: with the data, everything that determines its weights."""

    features: int
    epochs: int
    n_images: int
    batch_size: int
    lr: float
    seed: int

    def key(self, data_sha256: str, image_size: int) -> str:
        """What determines the encoder's weights, hashed: its file name and identity."""
        spec = dict(
            arch=ARCH_VERSION,
            data=data_sha256,
            size=image_size,
            features=self.features,
            epochs=self.epochs,
            n_images=self.n_images,
            batch=self.batch_size,
            lr=self.lr,
            seed=self.seed,
            torch=torch.__version__,
        )
        return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:16]


def weights_hash(model: nn.Module) -> str:
    h = hashlib.sha256()
    for name, value in sorted(model.state_dict().items()):
        h.update(name.encode())
        h.update(value.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


def train_encoder(images: np.ndarray, spec: EncoderSpec) -> tuple[AutoEncoder, float]:
    """Train on one thread from `seed` (mean squared reconstruction error, Adam); returns the
    model and its final-epoch training MSE."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        rng = np.random.default_rng(np.random.SeedSequence(spec.seed))
        pick = rng.choice(len(images), min(spec.n_images, len(images)), replace=False)
        x = torch.from_numpy(np.ascontiguousarray(images[np.sort(pick)], dtype=np.float32))[:, None]
        gen = torch.Generator().manual_seed(int(rng.integers(2**62)))
        torch_state = torch.get_rng_state()
        torch.manual_seed(int(rng.integers(2**62)))
        model = AutoEncoder(images.shape[-1], spec.features)
        torch.set_rng_state(torch_state)
        opt = torch.optim.Adam(model.parameters(), lr=spec.lr)
        loss_sum = 0.0
        for _ in range(spec.epochs):
            order = torch.randperm(len(x), generator=gen)
            loss_sum, batches = 0.0, 0
            for start in range(0, len(x), spec.batch_size):
                batch = x[order[start : start + spec.batch_size]]
                loss = torch.mean((model(batch) - batch) ** 2)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                loss_sum, batches = loss_sum + float(loss.detach()), batches + 1
            loss_sum /= batches
        model.eval()
        return model, loss_sum
    finally:
        torch.set_num_threads(previous)


def load_or_train_encoder(
    cache_dir: Path, data_sha256: str, train_images: np.ndarray, spec: EncoderSpec
) -> tuple[AutoEncoder, dict]:
    """The encoder for this data set and spec: loaded from `cache_dir` if trained before."""
    size = int(train_images.shape[-1])
    key = spec.key(data_sha256, size)
    path = Path(cache_dir) / f"encoder-{key}.pt"
    model = AutoEncoder(size, spec.features)
    if path.is_file():
        state = load_checkpoint(path)
        model.load_state_dict(state["weights"])
        model.eval()
        info = dict(state["info"])
        info["loaded_from_cache"] = True
    else:
        model, mse = train_encoder(train_images, spec)
        info = {
            "key": key,
            "train_mse": mse,
            "weights_sha256": weights_hash(model),
            "features": spec.features,
            "epochs": spec.epochs,
            "n_images": spec.n_images,
            "seed": spec.seed,
        }
        save_checkpoint(path, {"weights": model.state_dict(), "info": info})
        info = dict(info, loaded_from_cache=False)
    info["path"] = str(path)
    if weights_hash(model) != info["weights_sha256"]:
        raise RuntimeError(f"encoder {path} does not match its recorded hash")
    return model, info


@torch.no_grad()
def encode(model: AutoEncoder, images: np.ndarray, batch: int = 2048) -> np.ndarray:
    """(n, s, s) images -> (n, features) float64 feature vectors."""
    out = []
    for start in range(0, len(images), batch):
        x = torch.from_numpy(np.ascontiguousarray(images[start : start + batch], dtype=np.float32))
        out.append(model.encode(x[:, None]).double().numpy())
    return np.concatenate(out) if out else np.zeros((0, model.encoder[-1].out_features))
