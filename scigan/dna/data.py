"""DNA data: read FASTA/GenBank, encode, cut windows, hold out a contiguous block, save HDF5.

Encoding follows the thesis (§4.1.1): A, T, C, G are one-hot channels 0, 1, 2, 3. Sequences are
stored as uint8 codes (0-3, and INVALID for N and other IUPAC codes) and one-hot encoded on load.

Hold-out arithmetic (all records laid end to end in one coordinate, windows never cross a record
boundary): the nucleotides [a, b) with b - a = round(fraction * total) form the held-out
block (by default the last 10 % of the genome). Held-out windows lie entirely inside [a, b),
training windows entirely outside it. Window starts within window - 1 nt of a block edge are
in neither set, so no held-out window shares a single nucleotide with a training window.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import h5py
import numpy as np

from scigan.core.errors import InputError

ALPHABET = "ATCG"
INVALID = 255
BUNDLED_ACCESSION = "MN908947.3"
BUNDLED_NOTE = "SARS-CoV-2 isolate Wuhan-Hu-1, complete genome (MN908947.3 = NC_045512.2)"
DATA_FORMAT_VERSION = 1


def bundled_genome_path(kind: str = "fasta") -> Path:
    """The SARS-CoV-2 reference genome shipped inside the package (public sequence data)."""
    name = {"fasta": "MN908947.3.fasta", "genbank": "MN908947.3.gb"}[kind]
    return Path(str(resources.files("scigan.dna") / "genome" / name))


def _code_table() -> np.ndarray:
    table = np.full(256, INVALID, dtype=np.uint8)
    for code, base in enumerate(ALPHABET):
        table[ord(base)] = table[ord(base.lower())] = code
    # RNA files write U for T.
    table[ord("U")] = table[ord("u")] = ALPHABET.index("T")
    return table


def encode(sequence: str | bytes) -> np.ndarray:
    """'ATCG...' -> uint8 codes; anything that is not A/T/C/G/U (any case) becomes INVALID."""
    raw = sequence.encode("ascii", errors="replace") if isinstance(sequence, str) else sequence
    return _code_table()[np.frombuffer(raw, dtype=np.uint8)]


def decode(codes: np.ndarray) -> list[str]:
    """uint8 codes (n, w) or (w,) -> strings; INVALID decodes as N."""
    letters = np.frombuffer((ALPHABET + "N").encode(), dtype=np.uint8)
    codes = np.atleast_2d(np.asarray(codes))
    idx = np.where(codes == INVALID, 4, codes).astype(np.intp)
    return [row.tobytes().decode() for row in letters[idx]]


def _as_codes(codes: np.ndarray) -> np.ndarray:
    """A set of sequences as codes (n, w), or an error naming the shape it has instead."""
    codes = np.asarray(codes)
    if codes.ndim != 2:
        raise ValueError(f"codes must have shape (n, w), got {codes.shape}")
    return codes


def one_hot(codes: np.ndarray) -> np.ndarray:
    """(n, w) codes -> (n, w*4) float32, position-major: [pos0 A,T,C,G, pos1 A,T,C,G, ...]."""
    codes = np.asarray(codes)
    out = np.zeros((*codes.shape, 4), dtype=np.float32)
    np.put_along_axis(out, codes[..., None].astype(np.intp), 1.0, axis=-1)
    return out.reshape(codes.shape[0], -1)


@dataclass
class Record:
    id: str
    description: str
    codes: np.ndarray


def read_sequences(path: Path, fmt: str) -> list[Record]:
    """Read every record of a FASTA or GenBank file, with clear errors for unusable files."""
    from Bio import SeqIO  # imported here: Biopython is only needed when reading files

    path = Path(path)
    if path.is_dir():
        raise InputError(
            f"sequence file {path} is a folder, not a {fmt} file",
            f"give the {fmt} file itself: --{fmt} {path}/NAME",
        )
    if not path.is_file():
        raise InputError(f"sequence file {path} does not exist", "check the path")
    if path.stat().st_size == 0:
        raise InputError(f"sequence file {path} is empty", f"give a non-empty {fmt} file")
    _check_looks_like(path, fmt)
    try:
        with path.open() as handle:
            records = [
                Record(r.id, r.description, encode(bytes(r.seq))) for r in SeqIO.parse(handle, fmt)
            ]
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(
            f"{path} could not be read as {fmt}: {exc}",
            "check the file format (use --fasta for FASTA, --genbank for GenBank)",
        ) from None
    except Exception as exc:  # Biopython raises assorted errors on undefined-sequence records
        raise InputError(f"{path} could not be read as {fmt}: {exc}", "check the file") from None
    records = [r for r in records if len(r.codes) > 0]
    if not records:
        raise InputError(
            f"{path} holds no {fmt} sequence records",
            "give a FASTA (records starting with '>') or GenBank (LOCUS ... ORIGIN ... //) file, "
            "with the matching --fasta/--genbank option",
        )
    return records


def _check_looks_like(path: Path, fmt: str) -> None:
    """Cheap sniffing so that a wrong file gets our message, not a parser's essay."""
    head = path.open("rb").read(4096)
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(
            f"{path} is not a text file, so not {fmt}", "give a FASTA or GenBank text file"
        ) from None
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    expected = {"fasta": ">", "genbank": "LOCUS"}[fmt]
    if not first.startswith(expected):
        other = "--genbank" if fmt == "fasta" else "--fasta"
        raise InputError(
            f"{path} does not look like {fmt}: its first line should start with {expected!r}, "
            f"but is {first[:40]!r}",
            f"give a {fmt} file, or use {other} if it is the other format",
        )


@dataclass
class WindowSet:
    """Windows of one split: codes (n, window) and where each starts."""

    codes: np.ndarray
    record: np.ndarray  # record index of each window
    start: np.ndarray  # start within its record (0-based)


@dataclass
class DnaDataset:
    train: WindowSet
    heldout: WindowSet
    genome: np.ndarray  # all records concatenated (codes, INVALID kept)
    record_offsets: np.ndarray  # start of each record in `genome`, plus the total length
    record_ids: list[str]
    holdout_block: tuple[int, int]  # [a, b) in genome coordinates
    meta: dict = field(default_factory=dict)

    @property
    def window(self) -> int:
        return int(self.meta["window"])

    def training_segments(self) -> list[np.ndarray]:
        """Training genome material: each record minus the held-out block, split at invalid
        codes (a match must not run through an N). Used by the memorization metrics."""
        a, b = self.holdout_block
        pieces = []
        for r in range(len(self.record_ids)):
            lo, hi = int(self.record_offsets[r]), int(self.record_offsets[r + 1])
            for s, e in ((lo, min(hi, a)), (max(lo, b), hi)):
                if e > s:
                    pieces.append(self.genome[s:e])
        segments = []
        for piece in pieces:
            bad = np.flatnonzero(piece == INVALID)
            for part in np.split(piece, bad):
                part = part[part != INVALID]
                if len(part):
                    segments.append(part)
        return segments


def holdout_block(total: int, fraction: float, start: float | str = "end") -> tuple[int, int]:
    """[a, b) of the held-out block in concatenated-genome coordinates.

    `start` is "end" (the block is the last `fraction` of the genome) or the block's start as a
    fraction of the genome (moved left if the block would run past the end).
    """
    if not 0.0 <= fraction < 1.0:
        raise InputError(f"hold-out fraction {fraction} is outside [0, 1)", "use e.g. 0.1")
    size = int(round(fraction * total))
    if start == "end":
        return total - size, total
    try:
        start = float(start)
    except ValueError:
        raise InputError(
            f"hold-out start {start!r} is not 'end' or a number", "use end or 0.5"
        ) from None
    if not 0.0 <= start <= 1.0:
        raise InputError(f"hold-out start {start} is outside [0, 1]", "use a fraction, or end")
    a = min(int(round(start * total)), total - size)
    return a, a + size


def make_windows(
    records: list[Record],
    window: int = 60,
    stride: int = 1,
    holdout_fraction: float = 0.1,
    holdout_start: float | str = "end",
) -> tuple[WindowSet, WindowSet, dict]:
    """Cut every record into windows and split them into training and held-out sets."""
    if window < 1:
        raise InputError(f"window {window} must be at least 1 nt", "use e.g. --window 60")
    if stride < 1:
        raise InputError(f"stride {stride} must be at least 1 nt", "use e.g. --stride 1")
    lengths = np.array([len(r.codes) for r in records], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    a, b = holdout_block(int(offsets[-1]), holdout_fraction, holdout_start)
    splits: dict[str, list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = {
        "train": [],
        "heldout": [],
    }
    total_windows = skipped = gap = 0
    for r, rec in enumerate(records):
        n = len(rec.codes) - window + 1
        if n <= 0:
            continue
        starts = np.arange(0, n, stride, dtype=np.int64)
        total_windows += len(starts)
        # A window is usable when none of its nucleotides is invalid: prefix sums of the mask.
        bad = np.concatenate([[0], np.cumsum(rec.codes == INVALID)])
        usable = bad[starts + window] - bad[starts] == 0
        skipped += int((~usable).sum())
        starts = starts[usable]
        g_start, g_end = starts + offsets[r], starts + offsets[r] + window
        is_held = (g_start >= a) & (g_end <= b)
        is_train = (g_end <= a) | (g_start >= b)
        gap += int((~is_held & ~is_train).sum())
        for name, mask in (("train", is_train), ("heldout", is_held)):
            s = starts[mask]
            codes = rec.codes[s[:, None] + np.arange(window)]
            splits[name].append((codes, np.full(len(s), r, dtype=np.int32), s))
    if total_windows == 0:
        raise InputError(
            f"no record is at least {window} nt long (longest: {int(lengths.max())} nt)",
            "use a smaller --window or a longer sequence",
        )
    sets = {}
    for name, parts in splits.items():
        sets[name] = WindowSet(
            codes=np.concatenate([p[0] for p in parts]).astype(np.uint8).reshape(-1, window),
            record=np.concatenate([p[1] for p in parts]),
            start=np.concatenate([p[2] for p in parts]),
        )
    if len(sets["train"].codes) == 0:
        raise InputError(
            f"no usable training window: all {total_windows} windows contain N or other "
            f"non-ACGT codes ({skipped}) or fall in the held-out block",
            "check the sequence, or lower --holdout-fraction / --window",
        )
    counts = {
        "total_length": int(offsets[-1]),
        "n_records": len(records),
        "n_windows": total_windows,
        "n_skipped_invalid": skipped,
        "n_excluded_gap": gap,
        "n_train": len(sets["train"].codes),
        "n_heldout": len(sets["heldout"].codes),
    }
    meta = {
        "window": window,
        "stride": stride,
        "holdout_fraction": holdout_fraction,
        "holdout_start": holdout_start,
        "holdout_block": [a, b],
        **counts,
    }
    return sets["train"], sets["heldout"], meta


def build_dataset(
    path: Path | None = None,
    fmt: str = "fasta",
    window: int = 60,
    stride: int = 1,
    holdout_fraction: float = 0.1,
    holdout_start: float | str = "end",
) -> DnaDataset:
    """Windows from a FASTA/GenBank file, or from the bundled SARS-CoV-2 genome when path=None."""
    source = str(path) if path is not None else "bundled"
    if path is None:
        path, fmt = bundled_genome_path("fasta"), "fasta"
    records = read_sequences(path, fmt)
    train, heldout, meta = make_windows(records, window, stride, holdout_fraction, holdout_start)
    genome = np.concatenate([r.codes for r in records])
    lengths = [len(r.codes) for r in records]
    ids = [r.id for r in records]
    accession = BUNDLED_ACCESSION if source == "bundled" else ",".join(ids)
    meta.update(
        source=source,
        format=fmt,
        accession=accession,
        description=BUNDLED_NOTE if source == "bundled" else records[0].description,
        encoding="A=0,T=1,C=2,G=3 (one-hot channel order, thesis 4.1.1)",
        genome_sha256=hashlib.sha256(genome.tobytes()).hexdigest(),
        format_version=DATA_FORMAT_VERSION,
    )
    return DnaDataset(
        train=train,
        heldout=heldout,
        genome=genome,
        record_offsets=np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
        record_ids=ids,
        holdout_block=tuple(meta["holdout_block"]),
        meta=meta,
    )


def save_dataset(dataset: DnaDataset, path: Path) -> None:
    """Write HDF5 atomically (temporary file, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with h5py.File(tmp, "w") as f:
        for name, ws in (("train", dataset.train), ("heldout", dataset.heldout)):
            g = f.create_group(name)
            g.create_dataset("codes", data=ws.codes, compression="gzip")
            g.create_dataset("record", data=ws.record)
            g.create_dataset("start", data=ws.start)
        g = f.create_group("genome")
        g.create_dataset("codes", data=dataset.genome, compression="gzip")
        g.create_dataset("record_offsets", data=dataset.record_offsets)
        g.create_dataset("record_ids", data=np.array(dataset.record_ids, dtype=h5py.string_dtype()))
        for key, value in dataset.meta.items():
            f.attrs[key] = value
    tmp.replace(path)


DATA_FIX = (
    "make one with `scigan data dna --out DIR` and pass --data DIR/windows.h5 (a file made by "
    "`scigan data blobs` or `scigan data ising` is for that case study)"
)


def load_dataset(path: Path) -> DnaDataset:
    """The data set of a `scigan data dna` file (or of a folder holding windows.h5)."""
    from scigan.core.datafiles import not_this_kind, open_data_file

    path = Path(path)
    if path.is_dir():
        path = path / "windows.h5"
    layout = ("train/codes", "heldout/codes", "genome/codes")
    with open_data_file(path, "dna", DATA_FIX, layout, ("format_version",)) as f:
        version = f.attrs["format_version"]
        if version != DATA_FORMAT_VERSION:
            raise not_this_kind(
                path,
                "dna",
                f"data format version {version}; this scigan reads {DATA_FORMAT_VERSION}",
                "rebuild it with `scigan data dna --out DIR`",
            )
        sets = {
            name: WindowSet(f[name]["codes"][()], f[name]["record"][()], f[name]["start"][()])
            for name in ("train", "heldout")
        }
        meta = {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in f.attrs.items()}
        meta = {k: (v.item() if isinstance(v, np.generic) else v) for k, v in meta.items()}
        return DnaDataset(
            train=sets["train"],
            heldout=sets["heldout"],
            genome=f["genome"]["codes"][()],
            record_offsets=f["genome"]["record_offsets"][()],
            record_ids=[
                s.decode() if isinstance(s, bytes) else s for s in f["genome"]["record_ids"][()]
            ],
            holdout_block=tuple(int(x) for x in meta["holdout_block"]),
            meta=meta,
        )


def write_fasta(path: Path, codes: np.ndarray, prefix: str = "sample") -> None:
    """Sequences as FASTA, 60 nt per line."""
    lines = []
    for i, seq in enumerate(decode(codes)):
        lines.append(f">{prefix}_{i + 1}")
        lines.extend(seq[j : j + 60] for j in range(0, len(seq), 60))
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text("\n".join(lines) + "\n")
