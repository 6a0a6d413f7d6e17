"""Modulated deformable convolution (DCNv2) in plain PyTorch.

Reference
---------
Zhu X., Hu H., Lin S., Dai J. (2019). Deformable ConvNets v2: More Deformable, Better Results. CVPR,
§3.1 Eq. 3: ``y(p) = sum_k w_k x(p + p_k + dp_k) dm_k``, the sample at the fractional position taken by
bilinear interpolation, ``dm_k`` in [0, 1] a per-tap modulation; the offsets and masks are shared by the
channels of each of ``deformable_groups`` channel groups. As used for feature alignment by EDVR (Wang et
al. 2019, §3.1) and by the coarse-to-fine HDR video network (Chen et al. 2021, §3.3, Eq. 2-3).

Why plain PyTorch: torchvision's ``deform_conv2d`` operator does not load with the CPU build of torch
this project runs on, and a compiled extension is what users of the research code cannot build. Each of
the ``K = kh * kw`` kernel taps is one ``F.grid_sample`` of the input at the shifted positions (zeros
outside the image, as DCN's bilinear sampling), modulated by its mask and multiplied by that tap's
weights (a 1x1 convolution), accumulated tap by tap: memory stays that of one sampled feature map instead
of the ``K``-times larger column matrix of an im2col implementation (64 channels x 9 taps of a 1080p
frame would be 4.8 GB in float32). It runs on CUDA and under autocast unchanged (``grid_sample`` with
``align_corners=True``, explicit: pixel centres at integer coordinates, as DCN defines them).

Layout of ``offset`` and ``mask`` (torchvision's): ``offset`` ``(N, 2 G K, H, W)`` ordered group, tap,
then ``(dy, dx)``; ``mask`` ``(N, G K, H, W)`` ordered group, tap; taps in row-major order of the kernel.
Stride 1 and "same" padding only: what the alignment modules need.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def deform_conv2d(x: torch.Tensor, offset: torch.Tensor, mask: torch.Tensor, weight: torch.Tensor,
                  bias: torch.Tensor | None = None, dilation: int = 1) -> torch.Tensor:
    """DCNv2 of ``x`` ``(N, C, H, W)`` with ``weight`` ``(O, C, kh, kw)`` (odd kernel, stride 1, "same"
    zero padding) at the fractional positions ``offset`` moves each tap to, modulated by ``mask``
    (layouts in the module docstring): ``(N, O, H, W)``."""
    N, C, H, W = x.shape
    O, _, kh, kw = weight.shape
    K = kh * kw
    G = mask.shape[1] // K
    if C % G or offset.shape[1] != 2 * G * K or mask.shape[1] != G * K:
        raise ValueError(f"deform_conv2d: {C} channels, offset {tuple(offset.shape)}, mask {tuple(mask.shape)} "
                         f"for a {kh}x{kw} kernel do not fit one deformable group layout")
    # positions and sampling in float32 whatever the autocast: float16 resolves only whole pixels
    # from x = 1024 on, and 1080p columns go to 1919
    offset = offset.float().view(N, G, K, 2, H, W)
    mask = mask.float().view(N, G, 1, K, H, W)
    ys = torch.arange(H, device=x.device, dtype=torch.float32).view(1, 1, H, 1)
    xs = torch.arange(W, device=x.device, dtype=torch.float32).view(1, 1, 1, W)
    groups = x.float().reshape(N * G, C // G, H, W)
    out = None
    for k in range(K):
        dy, dx = (k // kw - kh // 2) * dilation, (k % kw - kw // 2) * dilation
        py = ys + dy + offset[:, :, k, 0]  # (N, G, H, W)
        px = xs + dx + offset[:, :, k, 1]
        # align_corners=True: -1 and 1 are the centres of the first and last pixels
        grid = torch.stack([2 * px / max(W - 1, 1) - 1, 2 * py / max(H - 1, 1) - 1], dim=-1)
        sampled = F.grid_sample(groups, grid.view(N * G, H, W, 2), mode="bilinear", padding_mode="zeros",
                                align_corners=True)
        sampled = (sampled.view(N, G, C // G, H, W) * mask[:, :, :, k]).view(N, C, H, W)
        tap = F.conv2d(sampled.to(weight.dtype), weight[:, :, k // kw, k % kw, None, None])
        out = tap if out is None else out + tap
    return out if bias is None else out + bias.view(1, O, 1, 1)


class ModulatedDeformConv(nn.Module):
    """A DCNv2 layer whose offsets and masks are predicted from a separate feature (EDVR's
    ``DCNv2Pack``): ``forward(x, feature)`` aligns ``x`` with the offsets a 3x3 convolution of
    ``feature`` predicts (``2 G K`` offset channels, ``G K`` mask channels through a sigmoid).

    The offset convolution starts at zero (DCNv2 §3.1: offsets 0, masks 0.5), so the layer starts as an
    ordinary convolution scaled by one half.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3, deformable_groups: int = 8,
                 feature_channels: int | None = None):
        super().__init__()
        self.kernel_size, self.deformable_groups = kernel_size, deformable_groups
        K = kernel_size * kernel_size
        self.weight = nn.Parameter(torch.empty(out_channels, in_channels, kernel_size, kernel_size))
        self.bias = nn.Parameter(torch.zeros(out_channels))
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        self.conv_offset = nn.Conv2d(feature_channels or in_channels, 3 * deformable_groups * K, 3, padding=1)
        nn.init.zeros_(self.conv_offset.weight)
        nn.init.zeros_(self.conv_offset.bias)

    def forward(self, x: torch.Tensor, feature: torch.Tensor) -> torch.Tensor:
        om = self.conv_offset(feature)
        split = 2 * self.deformable_groups * self.kernel_size ** 2
        return deform_conv2d(x, om[:, :split], torch.sigmoid(om[:, split:]), self.weight, self.bias)
