import json
from pathlib import Path

import numpy as np
import pytest
import torch

from scigan.blobs.config import BlobsConfig
from scigan.blobs.data import build_dataset
from scigan.blobs.storage import save_dataset
from scigan.blobs.train import epoch_order, noisy_bce_discriminator_loss
from scigan.core import workflow
from scigan.core.config import validate
from scigan.core.errors import ConfigError
from scigan.core.logs import read_jsonl
from scigan.core.registry import load_case_study, resolve_case_config
from scigan.core.trainer import steps_per_epoch


@pytest.fixture(scope="module")
def data_file(tmp_path_factory) -> Path:
    # 16x16 images keep the tests fast; the architecture is the thesis's at any size.
    path = tmp_path_factory.mktemp("data") / "blobs.h5"
    save_dataset(build_dataset(48, 40, size=16, seed=0), path)
    return path


def _config(data_file: Path, *extra: str) -> dict:
    sets = [
        f"data.path={data_file}",
        "num_threads=1",
        "train.batch_size=8",
        "train.epochs=3",
        "log.every=4",
        "log.tensorboard=false",
        *extra,
    ]
    return resolve_case_config(load_case_study("blobs"), None, sets)


def _final(run: Path) -> dict:
    return torch.load(run / "checkpoints" / "last.pt", weights_only=True)


def test_thesis_recipe_is_the_defaults():
    case = load_case_study("blobs")
    cfg = validate(BlobsConfig, resolve_case_config(case, None, []))
    t = cfg.train
    assert (t.epochs, t.lr_generator, t.lr_discriminator, t.label_noise) == (100, 1e-4, 1e-4, 0.05)
    assert (t.real_label, t.fake_label, cfg.model.noise_dim) == (1.0, 0.0, 128)
    collapse = validate(BlobsConfig, resolve_case_config(case, "collapse", []))
    assert collapse.train.lr_discriminator == 1e-5
    assert validate(BlobsConfig, resolve_case_config(case, "quick", [])).train.epochs == 6


def test_noisy_labels_loss():
    logits = torch.tensor([0.0, 2.0])
    targets = torch.tensor([1.03, 0.01])
    loss = noisy_bce_discriminator_loss(logits[:1], logits[1:], targets[:1], targets[1:])
    p = torch.sigmoid(logits)
    expected = -(targets * torch.log(p) + (1 - targets) * torch.log(1 - p)).mean()
    torch.testing.assert_close(loss, expected)


def test_an_epoch_visits_every_image_once():
    order = epoch_order(7, 3, 50)
    assert sorted(order.tolist()) == list(range(50))
    assert not np.array_equal(order, epoch_order(7, 4, 50))
    np.testing.assert_array_equal(order, epoch_order(7, 3, 50))
    assert steps_per_epoch(50, 8) == 6


def test_resumed_run_is_identical_to_uninterrupted(tmp_path: Path, data_file: Path):
    case = load_case_study("blobs")
    workflow.train(case, _config(data_file), tmp_path / "straight", None, False)
    workflow.train(case, _config(data_file), tmp_path / "split", 8, False)
    assert _final(tmp_path / "split")["step"] == 8
    workflow.train(case, _config(data_file), tmp_path / "split", None, False)
    a, b = _final(tmp_path / "straight"), _final(tmp_path / "split")
    assert a["step"] == b["step"] == 18  # 3 epochs of 48 // 8 = 6 steps
    for part in ("generator", "discriminator"):
        for key, value in a["task"][part].items():
            assert torch.equal(value, b["task"][part][key]), (part, key)
    assert read_jsonl(tmp_path / "straight" / "log.jsonl") == read_jsonl(
        tmp_path / "split" / "log.jsonl"
    )
    names = sorted(p.name for p in (tmp_path / "split" / "samples").iterdir())
    assert names == [
        "epoch_0001.npy",
        "epoch_0001.png",
        "epoch_0002.npy",
        "epoch_0002.png",
        "epoch_0003.npy",
        "epoch_0003.png",
        "evolution.gif",
    ]
    from PIL import Image

    with Image.open(tmp_path / "split" / "samples" / "evolution.gif") as gif:
        assert gif.n_frames == 3
    grid = np.load(tmp_path / "split" / "samples" / "epoch_0003.npy")
    assert grid.shape == (16, 16, 16)


def test_changed_config_is_refused_and_seeds(tmp_path: Path, data_file: Path):
    case = load_case_study("blobs")
    workflow.train(case, _config(data_file), tmp_path / "a", 2, False)
    with pytest.raises(ConfigError, match=r"(?s)different config.*train.lr_generator"):
        workflow.train(
            case, _config(data_file, "train.lr_generator=0.01"), tmp_path / "a", None, False
        )
    workflow.train(case, _config(data_file), tmp_path / "b", 2, False)
    workflow.train(case, _config(data_file, "seed=5"), tmp_path / "c", 2, False)
    w = {n: _final(tmp_path / n)["task"]["generator"]["dense.weight"] for n in "abc"}
    assert torch.equal(w["a"], w["b"]) and not torch.equal(w["a"], w["c"])


def test_bf16_autocast_and_contiguous_layout_run(tmp_path: Path, data_file: Path):
    case = load_case_study("blobs")
    workflow.train(
        case,
        _config(data_file, "train.precision=bf16", "train.channels_last=false"),
        tmp_path / "bf16",
        2,
        False,
    )
    losses = read_jsonl(tmp_path / "bf16" / "log.jsonl")
    assert [r["step"] for r in losses] == [1, 2]
    assert all(np.isfinite([r["loss_d"], r["loss_g"]]).all() for r in losses)
    assert json.loads((tmp_path / "bf16" / "run.json").read_text())["data"]["size"] == 16
