import torch

from scigan.core.sampling import noise_batches


def test_noise_batches_sizes_and_numbers():
    batches = list(noise_batches(10, 3, seed=7, device=torch.device("cpu"), batch=4))
    assert [b.shape for b in batches] == [(4, 3), (4, 3), (2, 3)]
    rng = torch.Generator().manual_seed(7)
    expected = [torch.randn(k, 3, generator=rng) for k in (4, 4, 2)]
    for got, want in zip(batches, expected, strict=True):
        torch.testing.assert_close(got, want, rtol=0, atol=0)
    assert list(noise_batches(0, 3, seed=7, device=torch.device("cpu"), batch=4)) == []
