"""Blob data in files: users' grayscale images read in, data sets written to and read from
HDF5, and PNG grids of images."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np

from scigan.blobs.data import BlobDataset, BlobParams, check_size
from scigan.core.errors import InputError

DATA_FORMAT_VERSION = 1
PARAM_KEYS = ("x0", "y0", "sx", "sy")


def _read_png(path: Path) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            im.load()
            mode = im.mode
            arr = np.asarray(im)
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise InputError(
            f"{path} cannot be read as an image ({exc})",
            "remove the file or replace it with a valid PNG",
        ) from None
    if arr.ndim == 3:
        if mode in ("LA", "RGBA"):
            arr = arr[..., :-1]
        if arr.shape[-1] == 1 or np.all(arr == arr[..., :1]):
            arr = arr[..., 0]
        else:
            raise InputError(
                f"{path} is a colour image (mode {mode})", "convert the images to grayscale"
            )
    if arr.dtype == np.uint8:
        return arr.astype(np.float32) / 255.0
    if arr.dtype in (np.uint16, np.int32) and mode.startswith("I"):
        return arr.astype(np.float32) / 65535.0
    if arr.dtype == bool:
        return arr.astype(np.float32)
    return arr.astype(np.float32)


def read_user_images(path: Path) -> np.ndarray:
    """A folder of PNGs or a .npy array -> (n, size, size) float32 in [0, 1].

    PNGs are grayscale (8-bit values are divided by 255, 16-bit by 65535); a .npy array has shape
    (n, s, s), (n, 1, s, s) or (n, s, s, 1) with values already in [0, 1].
    """
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() == ".png")
        if not files:
            raise InputError(f"{path} holds no .png files", "point --images at a folder of PNGs")
        images = [_read_png(f) for f in files]
        sizes = {im.shape for im in images}
        if len(sizes) > 1:
            examples = ", ".join(
                f"{f.name}: {im.shape[1]}x{im.shape[0]}"
                for f, im in list(zip(files, images, strict=True))[:3]
            )
            raise InputError(
                f"the images in {path} have different sizes ({examples}, ...)",
                "resize them all to one square size",
            )
        array = np.stack(images)
        source = f"{len(files)} PNG files"
    elif path.suffix.lower() == ".npy":
        if not path.is_file():
            raise InputError(f"{path} does not exist", "check the path given to --images")
        try:
            array = np.load(path, allow_pickle=False)
        except (ValueError, OSError, EOFError) as exc:
            raise InputError(
                f"{path} cannot be read as a .npy array ({exc})", "save it with numpy.save"
            ) from None
        if array.ndim == 4 and 1 in (array.shape[1], array.shape[3]):
            array = array[:, 0] if array.shape[1] == 1 else array[..., 0]
        if array.ndim != 3:
            raise InputError(
                f"{path} has shape {array.shape}, not (n, size, size)",
                "store grayscale images as an array of shape (n, size, size)",
            )
        if not np.issubdtype(array.dtype, np.number) or np.issubdtype(
            array.dtype, np.complexfloating
        ):
            raise InputError(
                f"{path} holds {array.dtype} values, not real numbers",
                "store the images as float32",
            )
        source = f".npy array {array.shape}"
    elif not path.exists():
        raise InputError(f"{path} does not exist", "give a folder of PNGs or a .npy file")
    else:
        raise InputError(
            f"{path} is neither a folder of PNGs nor a .npy file",
            "give a folder of PNGs or a .npy file",
        )
    array = np.asarray(array, dtype=np.float32)
    if len(array) == 0:
        raise InputError(f"{path} holds no images ({source})", "give at least two images")
    if array.shape[1] != array.shape[2]:
        raise InputError(
            f"the images in {path} are {array.shape[2]}x{array.shape[1]}, not square",
            "crop or pad them to a square size",
        )
    check_size(array.shape[1])
    bad = ~np.isfinite(array)
    if bad.any():
        which = np.flatnonzero(bad.any(axis=(1, 2)))
        raise InputError(
            f"{len(which)} image(s) in {path} contain NaN or infinite values "
            f"(first: index {which[0]})",
            "remove or repair those images",
        )
    if array.min() < 0 or array.max() > 1:
        raise InputError(
            f"the values in {path} span [{array.min():.4g}, {array.max():.4g}], "
            "outside [0, 1] (the generator ends in a sigmoid)",
            "rescale the images to [0, 1]",
        )
    if len(array) < 2:
        raise InputError(f"{path} holds a single image", "give at least two (training + held out)")
    return array


def _write_params(group: h5py.Group, params: BlobParams) -> None:
    group.create_dataset("count", data=params.count)
    for key in PARAM_KEYS:
        group.create_dataset(key, data=getattr(params, key).astype(np.float32))


def _read_params(group: h5py.Group) -> BlobParams:
    return BlobParams(
        count=group["count"][()], **{k: group[k][()].astype(np.float64) for k in PARAM_KEYS}
    )


def save_dataset(dataset: BlobDataset, path: Path) -> None:
    """HDF5: /train/images, /heldout/images, per-image blob parameters when known, meta attrs.
    Written to a temporary file and renamed, so an interrupted write leaves nothing half-done."""
    import json

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with h5py.File(tmp, "w") as f:
        for name, images, params in (
            ("train", dataset.train, dataset.train_params),
            ("heldout", dataset.heldout, dataset.heldout_params),
        ):
            g = f.create_group(name)
            g.create_dataset(
                "images", data=images.astype(np.float32), compression="gzip", shuffle=True
            )
            if params is not None:
                _write_params(g.create_group("params"), params)
        f.attrs["format_version"] = DATA_FORMAT_VERSION
        f.attrs["meta"] = json.dumps(dataset.meta)
    tmp.replace(path)


DATA_FIX = (
    "build one with `scigan data blobs --out DIR` and pass --data DIR/blobs.h5 (a file made by "
    "`scigan data dna` or `scigan data ising` is for that case study)"
)


def load_dataset(path: Path) -> BlobDataset:
    import json

    from scigan.core.datafiles import not_this_kind, open_data_file

    layout, attrs = ("train/images", "heldout/images"), ("format_version", "meta")
    with open_data_file(path, "blobs", DATA_FIX, layout, attrs, file_name="blobs.h5") as f:
        version = f.attrs["format_version"]
        if version != DATA_FORMAT_VERSION:
            raise not_this_kind(
                path,
                "blobs",
                f"data format version {version}; this scigan reads {DATA_FORMAT_VERSION}",
                "rebuild it with `scigan data blobs --out DIR`",
            )
        out = {}
        for name in ("train", "heldout"):
            g = f[name]
            params = _read_params(g["params"]) if "params" in g else None
            out[name] = (g["images"][()].astype(np.float32), params)
        meta = json.loads(f.attrs["meta"])
    return BlobDataset(out["train"][0], out["heldout"][0], out["train"][1], out["heldout"][1], meta)


def save_grid(path: Path, images: np.ndarray, columns: int = 8, title: str | None = None) -> None:
    """A PNG grid of images (n, s, s) in [0, 1], grayscale, no axes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(images)
    columns = max(1, min(columns, n))
    rows = -(-n // columns)
    fig, axes = plt.subplots(
        rows, columns, figsize=(columns * 1.2, rows * 1.2 + (0.3 if title else 0)), squeeze=False
    )
    for ax in axes.ravel():
        ax.axis("off")
    for ax, im in zip(axes.ravel(), images, strict=False):
        ax.imshow(im, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout(pad=0.2)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=80)
    plt.close(fig)
