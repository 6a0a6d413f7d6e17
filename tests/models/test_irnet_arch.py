"""IRNet (Xue et al. 2023): parameter counts of the paper's tables and Eq. 1-6 on small tensors."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from hdrconv.models.blocks import ContrastAwareChannelAttention, contrast_channels
from hdrconv.models.irnet_arch import NEGATIVE_SLOPE, ImprovedResidualBlock, IRNet, IRNetStage


def count(net):
    return sum(p.numel() for p in net.parameters())


@pytest.mark.parametrize("n, C, scale, kilo", [
    (2, 64, 1, 134.73),  # IRNet-2 (64c), Table 1
    (1, 48, 1, 49.30),  # IRNet-1 (48c), Table 1
    (1, 32, 1, 22.31), (1, 64, 1, 86.86),  # Table 7
    (2, 32, 1, 34.34), (2, 48, 1, 76.28), (2, 96, 1, 301.17),  # Table 8
    (3, 64, 1, 182.61), (4, 64, 1, 230.48),  # Table 5
    (5, 64, 4, 468.19), (1, 64, 4, 276.69), (6, 64, 4, 516.07),  # Tables 3, 6
    (5, 32, 4, 119.29), (5, 96, 4, 1046.73),  # Table 9
])
def test_parameter_counts_of_the_paper(n, C, scale, kilo):
    assert round(count(IRNet(n=n, C=C, scale=scale)) / 1000, 2) == kilo


def test_defaults_are_irnet_2():
    assert count(IRNet()) == count(IRNet(n=2, C=64, scale=1))


@pytest.fixture
def x():
    torch.manual_seed(0)
    return torch.randn(2, 8, 6, 7)


def test_contrast_is_standard_deviation_plus_mean(x):
    a = x.numpy().reshape(2, 8, -1)
    expected = a.std(axis=2) + a.mean(axis=2)  # population std, as Eq. 5 divides by HW
    np.testing.assert_allclose(contrast_channels(x).squeeze(-1).squeeze(-1).numpy(), expected, rtol=1e-5,
                               atol=1e-6)


def test_cca_rescales_channels_by_sigmoid_of_the_contrast(x):
    cca = ContrastAwareChannelAttention(8, reduction=4)
    z = contrast_channels(x)
    w = torch.sigmoid(cca.excite(torch.relu(cca.squeeze(z))))
    torch.testing.assert_close(cca(x), x * w)
    assert cca.squeeze.out_channels == 2


def test_irb_equations_1_to_4(x):
    torch.manual_seed(1)
    irb = ImprovedResidualBlock(C=8)
    f1 = F.leaky_relu(F.conv2d(x, irb.conv1.weight, irb.conv1.bias, padding=1), NEGATIVE_SLOPE)  # (1)
    f2 = F.conv2d(f1, irb.conv2.weight, irb.conv2.bias, padding=1)  # (2)
    f_fuse = F.conv2d(x + f2, irb.fuse.weight, irb.fuse.bias)  # (3)
    f_out = F.conv2d(torch.cat([f_fuse, f1], 1), irb.out.weight, irb.out.bias)  # (4)
    assert f1.shape == (2, 4, 6, 7) and f2.shape == (2, 8, 6, 7) and f_fuse.shape == (2, 4, 6, 7)
    torch.testing.assert_close(irb(x), f_out)


def test_inter_block_residual_equation_6(x):
    stage = IRNetStage(C=8)
    torch.testing.assert_close(stage(x), x + stage.cca(stage.irb(x)))


def test_network_concatenates_every_stage_and_fuses():
    torch.manual_seed(2)
    net = IRNet(n=3, C=16)
    x = torch.rand(1, 3, 9, 10)
    head = net.head(x)
    f1 = net.stages[0](head)
    f2 = net.stages[1](f1)
    f3 = net.stages[2](f2)
    fused = net.fuse_conv(F.leaky_relu(net.fuse[0](torch.cat([f1, f2, f3], 1)), NEGATIVE_SLOPE)) + head
    torch.testing.assert_close(net(x), net.tail(fused))
    assert net.head.kernel_size == (1, 1) and net.fuse[0].kernel_size == (1, 1)
    assert net.fuse_conv.kernel_size == (3, 3) and net.tail.kernel_size == (3, 3)


@pytest.mark.parametrize("scale", [1, 2, 4])
def test_output_shapes(scale):
    net = IRNet(n=1, C=8, scale=scale)
    assert net(torch.rand(2, 3, 5, 6)).shape == (2, 3, 5 * scale, 6 * scale)


def test_scale_must_be_a_power_of_two():
    with pytest.raises(ValueError):
        IRNet(scale=3)


def test_gradients_stay_finite_on_a_constant_patch():
    net = IRNet(n=1, C=16)
    net(torch.zeros(1, 3, 8, 8)).mean().backward()
    assert all(torch.isfinite(p.grad).all() for p in net.parameters())
