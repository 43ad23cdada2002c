import pytest
import torch


@pytest.fixture(autouse=True)
def _restore_torch_threads():
    """Training and opening a run set torch's thread count for the whole process (the run's
    num_threads); put it back so that one test's setting never leaks into the next."""
    before = torch.get_num_threads()
    yield
    if torch.get_num_threads() != before:
        torch.set_num_threads(before)
