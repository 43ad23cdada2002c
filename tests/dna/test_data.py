from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scigan.core.errors import InputError
from scigan.dna.data import (
    INVALID,
    Record,
    build_dataset,
    bundled_genome_path,
    decode,
    encode,
    holdout_block,
    load_dataset,
    make_windows,
    one_hot,
    read_sequences,
    save_dataset,
)

# The thesis prints these as its first three (non-overlapping) windows; they are positions
# 1, 61 and 121 of MN908947.3 (the thesis's copies of windows 2 and 3 carry typos).
THESIS_SEQUENCE_1 = "ATTAAAGGTTTATACCTTCCCAGGTAACAAACCAACCAACTTTCGATCTCTTGTAGATCT"


@given(st.text(alphabet="ATCGatcg", min_size=1, max_size=200))
def test_encode_decode_round_trip(seq: str):
    assert decode(encode(seq)[None, :])[0] == seq.upper()


@given(st.lists(st.integers(0, 3), min_size=1, max_size=50))
def test_one_hot_channels_follow_the_thesis_order(codes):
    arr = np.array([codes], dtype=np.uint8)
    hot = one_hot(arr).reshape(1, -1, 4)
    np.testing.assert_array_equal(hot.argmax(-1), arr)
    np.testing.assert_array_equal(hot.sum(-1), np.ones_like(arr))


def test_encoding_table():
    np.testing.assert_array_equal(
        encode("ATCGatcgUN-R"), [0, 1, 2, 3, 0, 1, 2, 3, 1] + [INVALID] * 3
    )
    np.testing.assert_array_equal(one_hot(encode("A")[None]), [[1, 0, 0, 0]])
    np.testing.assert_array_equal(one_hot(encode("G")[None]), [[0, 0, 0, 1]])


def test_bundled_genome_windows_and_holdout_counts():
    d = build_dataset()
    m = d.meta
    assert (m["total_length"], m["n_windows"]) == (29903, 29844)
    assert m["holdout_block"] == [26913, 29903]  # the last 2,990 nt
    assert m["n_heldout"] == 2990 - 59
    assert m["n_train"] == 26913 - 60 + 1
    assert m["n_excluded_gap"] == 59  # window - 1 starts straddle the block edge
    assert m["n_train"] + m["n_heldout"] + m["n_excluded_gap"] == m["n_windows"]
    assert m["accession"] == "MN908947.3"
    seqs = decode(d.train.codes[[0, 60, 120]])
    assert seqs[0] == THESIS_SEQUENCE_1
    genome = decode(d.genome[None])[0]
    assert seqs[1] == genome[60:120] and seqs[2] == genome[120:180]


def test_full_genome_without_holdout_gives_the_thesis_29844_windows():
    d = build_dataset(holdout_fraction=0.0)
    assert (d.meta["n_train"], d.meta["n_heldout"]) == (29844, 0)


def test_genbank_and_fasta_give_the_same_windows():
    a = build_dataset(bundled_genome_path("fasta"), "fasta")
    b = build_dataset(bundled_genome_path("genbank"), "genbank")
    np.testing.assert_array_equal(a.train.codes, b.train.codes)
    np.testing.assert_array_equal(a.heldout.codes, b.heldout.codes)


@settings(max_examples=60, deadline=None)
@given(
    lengths=st.lists(st.integers(1, 80), min_size=1, max_size=4),
    window=st.integers(1, 12),
    stride=st.integers(1, 4),
    fraction=st.floats(0.0, 0.6),
    start=st.one_of(st.just("end"), st.floats(0.0, 1.0)),
    data=st.data(),
)
def test_holdout_never_overlaps_training_and_counts_add_up(
    lengths, window, stride, fraction, start, data
):
    records = [
        Record(
            f"r{i}",
            "",
            np.array(
                data.draw(st.lists(st.sampled_from([0, 1, 2, 3, INVALID]), min_size=n, max_size=n)),
                dtype=np.uint8,
            ),
        )
        for i, n in enumerate(lengths)
    ]
    total_windows = sum(len(range(0, n - window + 1, stride)) for n in lengths)
    if total_windows == 0:
        with pytest.raises(InputError, match="no record is at least"):
            make_windows(records, window, stride, fraction, start)
        return
    try:
        train, held, meta = make_windows(records, window, stride, fraction, start)
    except InputError as exc:
        assert "no usable training window" in str(exc)
        return
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    a, b = meta["holdout_block"]
    assert b - a == round(fraction * offsets[-1])
    covered_train = {
        int(offsets[r] + s + k)
        for r, s in zip(train.record, train.start, strict=True)
        for k in range(window)
    }
    covered_held = {
        int(offsets[r] + s + k)
        for r, s in zip(held.record, held.start, strict=True)
        for k in range(window)
    }
    assert not covered_train & covered_held
    assert all(a <= p < b for p in covered_held)
    assert (
        meta["n_train"] + meta["n_heldout"] + meta["n_excluded_gap"] + meta["n_skipped_invalid"]
        == total_windows
    )
    for ws in (train, held):
        assert not (ws.codes == INVALID).any()
        assert all((s % stride) == 0 for s in ws.start)
        for r, s, row in zip(ws.record, ws.start, ws.codes, strict=True):
            np.testing.assert_array_equal(records[r].codes[s : s + window], row)


def test_invalid_codes_are_skipped_and_counted_lowercase_accepted(tmp_path: Path):
    fasta = tmp_path / "x.fa"
    fasta.write_text(">one\nacgtacgtNN\nacgtac\n>two desc\nACGTRACGTACGT\n")
    records = read_sequences(fasta, "fasta")
    assert [r.id for r in records] == ["one", "two"]
    train, held, meta = make_windows(records, window=4, stride=1, holdout_fraction=0.0)
    # record one: 16 nt, 13 windows, those touching positions 8-9 (N) are skipped: starts 5..9
    # record two: 13 nt, 10 windows, those touching position 4 (R) skipped: starts 1..4
    assert meta["n_windows"] == 23
    assert meta["n_skipped_invalid"] == 5 + 4
    assert meta["n_train"] == 23 - 9
    assert decode(train.codes[:1])[0] == "ACGT"


def test_holdout_block_arithmetic():
    assert holdout_block(100, 0.1, "end") == (90, 100)
    assert holdout_block(100, 0.1, 0.5) == (50, 60)
    assert holdout_block(100, 0.1, 1.0) == (90, 100)
    assert holdout_block(100, 0.0, "end") == (100, 100)
    with pytest.raises(InputError, match="outside"):
        holdout_block(100, 1.0, "end")
    with pytest.raises(InputError, match="not 'end' or a number"):
        holdout_block(100, 0.1, "middle")


@pytest.mark.parametrize(
    ("content", "fmt", "message"),
    [
        ("", "fasta", "is empty"),
        ("hello world\nthis is not a sequence\n", "fasta", "does not look like fasta"),
        (">a\n" + "N" * 70 + "\n", "fasta", "no usable training window"),
        (">a\nACGT\n", "fasta", "no record is at least 60 nt"),
        (">a\n\n>b\n", "fasta", "no fasta sequence records"),
        (">a\nACGT" * 3, "genbank", "does not look like genbank"),
        ("LOCUS garbage\n", "genbank", "could not be read as genbank|no genbank sequence records"),
    ],
)
def test_bad_inputs_give_clear_errors(tmp_path: Path, content, fmt, message):
    path = tmp_path / "in.txt"
    path.write_text(content)
    with pytest.raises(InputError, match=message):
        build_dataset(path, fmt)


def test_binary_file_is_a_clear_error(tmp_path: Path):
    path = tmp_path / "in.bin"
    path.write_bytes(bytes(range(256)) * 10)
    with pytest.raises(InputError):
        build_dataset(path, "fasta")


def test_missing_file(tmp_path: Path):
    with pytest.raises(InputError, match="does not exist"):
        build_dataset(tmp_path / "nope.fa", "fasta")


def test_hdf5_round_trip_keeps_windows_and_metadata(tmp_path: Path):
    d = build_dataset(holdout_fraction=0.2, holdout_start=0.5)
    save_dataset(d, tmp_path / "windows.h5")
    e = load_dataset(tmp_path)  # a folder holding windows.h5 works too
    assert e.meta == d.meta
    np.testing.assert_array_equal(e.train.codes, d.train.codes)
    np.testing.assert_array_equal(e.heldout.start, d.heldout.start)
    np.testing.assert_array_equal(e.genome, d.genome)
    # the training genome is everything outside the held-out block
    a, b = d.holdout_block
    segments = e.training_segments()
    np.testing.assert_array_equal(
        np.concatenate(segments), np.concatenate([d.genome[:a], d.genome[b:]])
    )


def test_loading_a_non_scigan_file_is_a_clear_error(tmp_path: Path):
    (tmp_path / "windows.h5").write_text("nope")
    with pytest.raises(InputError, match="not a readable HDF5"):
        load_dataset(tmp_path / "windows.h5")


@pytest.mark.parametrize(
    ("other", "missing"),
    [
        ("blobs", "train/codes, heldout/codes, genome/codes"),
        ("ising", "train/codes, heldout/codes, genome/codes, attribute format_version"),
    ],
)
def test_another_case_studys_data_set_is_named(tmp_path: Path, other, missing):
    from scigan.dna.data import DATA_FIX
    from tests.data_kinds import tiny_data_file

    path = tiny_data_file(other, tmp_path)
    with pytest.raises(InputError) as exc:
        load_dataset(path)
    assert exc.value.problem == f"{path} is not a dna data set (it has no {missing})"
    assert exc.value.fix == DATA_FIX
    assert DATA_FIX == (
        "make one with `scigan data dna --out DIR` and pass --data DIR/windows.h5 (a file made "
        "by `scigan data blobs` or `scigan data ising` is for that case study)"
    )


def test_a_newer_format_version_is_named(tmp_path: Path):
    import h5py

    from tests.data_kinds import tiny_data_file

    path = tiny_data_file("dna", tmp_path)
    with h5py.File(path, "a") as f:
        f.attrs["format_version"] = 2
    with pytest.raises(InputError) as exc:
        load_dataset(path)
    assert exc.value.problem == (
        f"{path} is not a dna data set (data format version 2; this scigan reads 1)"
    )


@pytest.mark.parametrize("fmt", ["fasta", "genbank"])
def test_a_folder_as_the_sequence_file_is_called_a_folder(tmp_path: Path, fmt):
    with pytest.raises(InputError) as exc:
        read_sequences(tmp_path, fmt)
    assert exc.value.problem == f"sequence file {tmp_path} is a folder, not a {fmt} file"
    assert exc.value.fix == f"give the {fmt} file itself: --{fmt} {tmp_path}/NAME"
