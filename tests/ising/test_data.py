"""The GAN's data: temperatures chosen from a data set, held out at the end of each chain."""

import pytest

from scigan.core.errors import ConfigError, InputError
from scigan.ising.data import load_data, split_counts


def test_heldout_split_is_the_end_of_each_chain(small_ising):
    data = load_data(small_ising, 0.25, [3.0, 1.0])
    assert data.temperatures.tolist() == [3.0, 1.0] and data.indices.tolist() == [2, 0]
    assert data.train.shape == (2, 120, 4, 4) and data.heldout.shape == (2, 40, 4, 4)
    assert split_counts(10000, 0.2) == (8000, 2000)
    with pytest.raises(ConfigError):
        split_counts(3, 0.1)
    with pytest.raises(ConfigError):
        load_data(small_ising, 0.2, [1.5])
    with pytest.raises(InputError):
        load_data(small_ising.parent / "missing.h5", 0.2, None)


@pytest.mark.parametrize("other", ["dna", "blobs"])
def test_another_case_studys_data_set_is_named(tmp_path, other):
    from scigan.ising.data import DATA_FIX
    from tests.data_kinds import tiny_data_file

    path = tiny_data_file(other, tmp_path)
    with pytest.raises(InputError) as exc:
        load_data(path, 0.2, None)
    assert exc.value.problem == (
        f"{path} is not an ising data set (it has no temperatures, spins, done, attribute "
        "parameters)"
    )
    assert exc.value.fix == DATA_FIX
    assert DATA_FIX == (
        "build one with `scigan data ising --out DIR` and pass --data DIR/ising.h5 (a file made "
        "by `scigan data dna` or `scigan data blobs` is for that case study)"
    )


def test_a_folder_as_the_data_file_is_called_a_folder(small_ising):
    with pytest.raises(InputError) as exc:
        load_data(small_ising.parent, 0.2, None)
    assert exc.value.problem == f"{small_ising.parent} is a folder, not an ising data set file"
    assert exc.value.fix == f"pass the data file itself, e.g. --data {small_ising}"
