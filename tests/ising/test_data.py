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
