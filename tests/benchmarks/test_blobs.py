from benchmarks.blobs import layer_macs, step_flops
from scigan.blobs.models import Discriminator, Generator


def test_flops_per_training_step_from_layer_shapes():
    import torch

    g, d = Generator(), Discriminator()
    assert [m for _, m in layer_macs(g, torch.zeros(1, 128))] == [
        128 * 8192,
        8 * 8 * 128 * 128 * 16,
        16 * 16 * 128 * 256 * 16,
        32 * 32 * 256 * 25,
    ]
    assert [m for _, m in layer_macs(d, torch.zeros(1, 1, 32, 32))] == [
        16 * 16 * 32 * 16,
        8 * 8 * 32 * 64 * 16,
        4 * 4 * 64 * 128 * 16,
        2048,
    ]
    # 4 G passes (fwd twice, weight grads, input grads but the dense layer) and 8 D passes
    # (fwd on 2B and B, weight grads on 2B, input grads on 2B but layer 1, and all on B).
    assert step_flops(1, g, d) == 2 * 667_697_152
    assert step_flops(64, g, d) == 64 * 1_335_394_304
