"""The blob case study's side of the contract that needs no training."""

from pathlib import Path

from scigan.blobs.casestudy import BlobsCaseStudy


def test_sample_paths_are_the_npy_array_and_its_png_grid():
    case = BlobsCaseStudy()
    assert case.sample_paths(Path("out/s.npy")) == [Path("out/s.npy"), Path("out/s.png")]
    assert case.sample_paths(Path("s.fasta")) == [Path("s.npy"), Path("s.png")]
    assert case.sample_paths(Path("samples")) == [Path("samples.npy"), Path("samples.png")]


def test_sample_without_out_writes_samples_npy_and_its_grid():
    case = BlobsCaseStudy()
    assert case.sample_file == "samples.npy"
    assert case.sample_paths(Path(case.sample_file)) == [Path("samples.npy"), Path("samples.png")]
