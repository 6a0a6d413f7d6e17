"""IRNet: the Improved Residual Network for inverse tone mapping and joint SR-ITM.

Reference
---------
Xue L., Xu T., Song Y., Liu Y., Zhang L., Zhen X., Xu J. (2023). Lightweight Improved Residual Network
for Efficient Inverse Tone Mapping. arXiv:2307.03998. §3.2 (architecture, Eq. 1-6, Fig. 2), §3.3
(n = 2 for ITM, n = 5 for joint SR-ITM, C = 64), Tables 1, 3, 5-9 (parameter counts).

Where the text leaves a detail open, the authors' reference implementation (ThisisVikki/ITM-baseline)
decides it, and the parameter counts of the paper's tables confirm it: the fusion 1x1 convolution of
Eq. 3 outputs C/2 channels so that the concatenation of Eq. 4 has C channels; LeakyReLU slope 0.05;
a global residual from the head features around the fusion convolutions (Fig. 2 d); and the joint SR-ITM
tail is a 3x3 convolution followed by two x2 sub-pixel stages (Table 3: 468.19 K parameters).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from hdrconv.models.blocks import ContrastAwareChannelAttention, conv_layer

NEGATIVE_SLOPE = 0.05
"""LeakyReLU slope of the reference implementation."""


class ImprovedResidualBlock(nn.Module):
    """Improved Residual Block (IRB), §3.2 Eq. 1-4, Fig. 2 (b)::

        F1    = LeakyReLU(Conv3x3(F_in))          (1)   C   -> C/2
        F2    = Conv3x3(F1)                       (2)   C/2 -> C
        Ffuse = Conv1x1(F_in + F2)                (3)   C   -> C/2
        Fout  = Conv1x1(Concat(Ffuse, F1))        (4)   C   -> C
    """

    def __init__(self, C: int = 64):
        super().__init__()
        self.conv1 = conv_layer(C, C // 2, 3)
        self.conv2 = conv_layer(C // 2, C, 3)
        self.fuse = conv_layer(C, C - C // 2, 1)
        self.out = conv_layer(C, C, 1)
        self.act = nn.LeakyReLU(NEGATIVE_SLOPE)

    def forward(self, f_in: torch.Tensor) -> torch.Tensor:
        f1 = self.act(self.conv1(f_in))
        f2 = self.conv2(f1)
        f_fuse = self.fuse(f_in + f2)
        return self.out(torch.cat([f_fuse, f1], dim=1))


class IRNetStage(nn.Module):
    """One IRB followed by a CCA layer with the inter-block residual of Eq. 6:
    ``F_in^{i+1} = F_in^i + CCA(IRB(F_in^i))``."""

    def __init__(self, C: int = 64):
        super().__init__()
        self.irb = ImprovedResidualBlock(C)
        self.cca = ContrastAwareChannelAttention(C)

    def forward(self, f_in: torch.Tensor) -> torch.Tensor:
        return f_in + self.cca(self.irb(f_in))


class IRNet(nn.Module):
    """Improved Residual Network, Fig. 2 (d).

    1x1 head (3 -> C), ``n`` stages of IRB + CCA (Eq. 1-6), concatenation of the ``n`` stage outputs,
    1x1 convolution + LeakyReLU + 3x3 convolution (multi-scale fusion) with the global residual from the
    head, then a 3x3 output convolution (C -> 3). For joint SR-ITM (``scale`` > 1) the output convolution
    is C -> C and a pixel-shuffle tail upsamples by ``scale`` (a power of two, x2 per stage) [§3.2].

    Parameters
    ----------
    n
        Number of IRB blocks: 2 for ITM (IRNet-2), 1 for IRNet-1, 5 for joint SR-ITM (§3.3).
    C
        Channels of the features: 64 (IRNet-2, IRNet-5) or 48 (IRNet-1) (§4.4 3).
    scale
        Upsampling factor: 1 for ITM, 4 for the paper's joint SR-ITM.

    In the project's convention the input is BT.709 R'G'B' in [0, 1] and the output PQ-coded BT.2020
    R'G'B' in [0, 1] (the HDRTV1K convention the paper trains on, §4.1).
    """

    def __init__(self, n: int = 2, C: int = 64, scale: int = 1, in_channels: int = 3,
                 out_channels: int = 3):
        super().__init__()
        if scale < 1 or scale & (scale - 1):
            raise ValueError(f"scale must be a power of two, got {scale}")
        self.scale = scale
        self.head = conv_layer(in_channels, C, 1)
        self.stages = nn.ModuleList(IRNetStage(C) for _ in range(n))
        self.fuse = nn.Sequential(conv_layer(n * C, C, 1), nn.LeakyReLU(NEGATIVE_SLOPE))
        self.fuse_conv = conv_layer(C, C, 3)
        if scale == 1:
            self.tail = conv_layer(C, out_channels, 3)
        else:
            steps = int(math.log2(scale))
            layers: list[nn.Module] = [conv_layer(C, C, 3)]
            for i in range(steps):
                out = out_channels if i == steps - 1 else C
                layers += [conv_layer(C, out * 4, 3), nn.PixelShuffle(2)]
            self.tail = nn.Sequential(*layers)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                # Kaiming initialisation (§3.3), as the reference implementation configures it
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = head = self.head(x)
        scales = []
        for stage in self.stages:
            f = stage(f)
            scales.append(f)
        f = self.fuse_conv(self.fuse(torch.cat(scales, dim=1))) + head
        return self.tail(f)
