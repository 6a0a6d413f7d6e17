"""RefineNet: alignment and fusion in the feature space of three coarse HDR frames, the second stage of
the coarse-to-fine HDR video network.

Reference
---------
Chen G., Chen C., Guo S., Liang Z., Wong K.-Y. K., Zhang L. (2021). HDR Video Reconstruction: A
Coarse-to-fine Network and A Real-world Benchmark Dataset. ICCV. §3.3: a shared-weight feature extractor
(64-channel features ``F_{i-1}, F_i, F_{i+1}``), deformable feature alignment with the pyramid,
cascading and deformable (PCD) module of EDVR (Eq. 2-3, Fig. 4 a), temporal attention fusion (Fig. 4 b:
each feature concatenated with the reference feature, two convolutions, an attention map of the
feature's size weighting it; the three attended features concatenated and fused by a convolution), and
a reconstruction branch with two skip connections from the reference frame's encoder features; Table 4
(3.0 M parameters).

Wang X., Chan K. C. K., Yu K., Dong C., Loy C. C. (2019). EDVR: Video Restoration with Enhanced
Deformable Convolutional Networks. CVPR Workshops, §3.1 (PCD: offsets estimated at three pyramid
levels from the concatenated features, refined from the coarser level's upsampled offsets and aligned
features; a last cascading deformable convolution at the finest level; LeakyReLU 0.1; 8 deformable
groups).

What the text leaves open and is decided here:

- **Encoder features** for the skips: the reference frame's level-1 and level-2 pyramid features (the
  extractor computes them for the PCD module anyway); the reconstruction branch is a U-Net that halves
  the fused feature twice and concatenates those two on its way back up.
- **Residual output**: RefineNet predicts a correction of the centre frame's coarse HDR in the
  compressed (mu-law) domain (:func:`~hdrconv.models.coarse_arch.compress`), which it also sees its
  inputs in: the coarse HDR is right almost everywhere (Table 5: 39.25 dB alone), so the network starts
  from it and learns what is left.
- ``align_scale`` > 1 runs the feature extraction, alignment and fusion at ``1/align_scale`` of the
  frame (the first convolution strided) and upsamples the correction bilinearly (the CPU configuration).
- **Channel counts and depths**: 64 channels and 8 deformable groups as EDVR and §3.3 say; the number
  of residual blocks (5 in the extractor, as EDVR's, and 7 at the reconstruction's lowest scale) is chosen to give the
  3.0 M parameters of Table 4 (the supplementary's layer tables are not available here).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from hdrconv.models.blocks import ResidualBlock, conv_layer
from hdrconv.models.coarse_arch import compress, expand
from hdrconv.models.deform import ModulatedDeformConv

NEGATIVE_SLOPE = 0.1
"""LeakyReLU slope of EDVR."""


def _act(x: torch.Tensor) -> torch.Tensor:
    return F.leaky_relu(x, NEGATIVE_SLOPE)


def _up(x: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    return F.interpolate(x, size=like.shape[-2:], mode="bilinear", align_corners=False)


class FeatureExtractor(nn.Module):
    """Shared-weight feature extractor: a (strided, ``align_scale``) convolution and residual blocks
    (level 1), then two stride-2 stages (levels 2 and 3, EDVR's pyramid)."""

    def __init__(self, C: int, blocks: int, align_scale: int):
        super().__init__()
        self.first = nn.Conv2d(3, C, 2 * align_scale + 1, stride=align_scale, padding=align_scale)
        self.blocks = nn.Sequential(*(ResidualBlock(C) for _ in range(blocks)))
        self.l2 = nn.ModuleList([conv_layer(C, C, 3, stride=2), conv_layer(C, C, 3)])
        self.l3 = nn.ModuleList([conv_layer(C, C, 3, stride=2), conv_layer(C, C, 3)])

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        f1 = self.blocks(_act(self.first(x)))
        f2 = _act(self.l2[1](_act(self.l2[0](f1))))
        f3 = _act(self.l3[1](_act(self.l3[0](f2))))
        return [f1, f2, f3]


class PCDAlignment(nn.Module):
    """EDVR's pyramid, cascading and deformable alignment (Fig. 4 a; EDVR §3.1) of a neighbour's
    pyramid features to the reference's."""

    def __init__(self, C: int = 64, deformable_groups: int = 8):
        super().__init__()
        self.offset_in = nn.ModuleList(conv_layer(2 * C, C, 3) for _ in range(3))
        # levels 1 and 2 also see the coarser level's upsampled offset feature
        self.offset_merge = nn.ModuleList([conv_layer(2 * C, C, 3), conv_layer(2 * C, C, 3)])
        self.offset_out = nn.ModuleList(conv_layer(C, C, 3) for _ in range(3))
        self.dcn = nn.ModuleList(ModulatedDeformConv(C, C, 3, deformable_groups) for _ in range(3))
        self.feature_merge = nn.ModuleList([conv_layer(2 * C, C, 3), conv_layer(2 * C, C, 3)])
        self.cascade_offset = nn.Sequential(conv_layer(2 * C, C, 3), nn.LeakyReLU(NEGATIVE_SLOPE),
                                            conv_layer(C, C, 3), nn.LeakyReLU(NEGATIVE_SLOPE))
        self.cascade_dcn = ModulatedDeformConv(C, C, 3, deformable_groups)

    def forward(self, neighbour: list[torch.Tensor], reference: list[torch.Tensor]) -> torch.Tensor:
        offset = feature = None
        for level in (2, 1, 0):  # coarse to fine; module lists are indexed finest first
            o = _act(self.offset_in[level](torch.cat([neighbour[level], reference[level]], dim=1)))
            if offset is not None:
                o = _act(self.offset_merge[level](torch.cat([o, 2 * _up(offset, o)], dim=1)))
            offset = _act(self.offset_out[level](o))
            aligned = self.dcn[level](neighbour[level], offset)
            if feature is not None:
                aligned = self.feature_merge[level](torch.cat([aligned, _up(feature, aligned)], dim=1))
            feature = aligned if level == 0 else _act(aligned)
        cascade = self.cascade_offset(torch.cat([feature, reference[0]], dim=1))
        return _act(self.cascade_dcn(feature, cascade))


class TemporalAttentionFusion(nn.Module):
    """Temporal attention fusion (Fig. 4 b): attention maps from each aligned feature and the reference
    feature (two convolutions, a sigmoid), the attended features concatenated and fused."""

    def __init__(self, C: int = 64, frames: int = 3):
        super().__init__()
        self.attention = nn.Sequential(conv_layer(2 * C, C, 3), nn.LeakyReLU(NEGATIVE_SLOPE), conv_layer(C, C, 3))
        self.fuse = conv_layer(frames * C, C, 3)

    def forward(self, aligned: list[torch.Tensor], reference: torch.Tensor) -> torch.Tensor:
        attended = [f * torch.sigmoid(self.attention(torch.cat([f, reference], dim=1))) for f in aligned]
        return _act(self.fuse(torch.cat(attended, dim=1)))


class RefineNet(nn.Module):
    """RefineNet (§3.3, Fig. 2 right): three coarse HDR frames -> refined HDR of the centre one.

    Parameters
    ----------
    C
        Feature channels (64 in the paper).
    deformable_groups
        Offset groups of the deformable convolutions (EDVR: 8).
    extract_blocks, reconstruct_blocks
        Residual blocks of the feature extractor (level 1) and of the reconstruction's lowest scale.
    align_scale
        Resolution divisor of features, alignment and fusion (1 in the paper).
    """

    def __init__(self, C: int = 64, deformable_groups: int = 8, extract_blocks: int = 5,
                 reconstruct_blocks: int = 7, align_scale: int = 1):
        super().__init__()
        if C % deformable_groups:
            raise ValueError(f"{C} channels do not split into {deformable_groups} deformable groups")
        self.align_scale = align_scale
        self.extract = FeatureExtractor(C, extract_blocks, align_scale)
        self.align = PCDAlignment(C, deformable_groups)
        self.fusion = TemporalAttentionFusion(C, 3)
        self.down1 = conv_layer(C, C, 3, stride=2)
        self.down2 = conv_layer(C, C, 3, stride=2)
        self.body = nn.Sequential(*(ResidualBlock(C) for _ in range(reconstruct_blocks)))
        self.up2 = nn.Sequential(conv_layer(2 * C, C, 3), nn.LeakyReLU(NEGATIVE_SLOPE), ResidualBlock(C))
        self.up1 = nn.Sequential(conv_layer(2 * C, C, 3), nn.LeakyReLU(NEGATIVE_SLOPE), ResidualBlock(C))
        self.out = conv_layer(C, 3, 3)
        nn.init.zeros_(self.out.weight)  # no correction at the start: RefineNet starts as CoarseNet
        nn.init.zeros_(self.out.bias)

    @property
    def multiple(self) -> int:
        """What the frame size must be a multiple of."""
        return 4 * self.align_scale

    def forward(self, coarse: torch.Tensor) -> torch.Tensor:
        """Coarse radiance ``(N, 3, 3, H, W)`` of frames i-1, i, i+1 -> refined radiance ``(N, 3, H, W)``
        of frame i."""
        N, n, _, H, W = coarse.shape
        codes = compress(coarse)
        pyramids = self.extract(codes.reshape(N * n, 3, H, W))
        features = [[p.view(N, n, *p.shape[1:])[:, j] for p in pyramids] for j in range(n)]
        reference = features[n // 2]
        aligned = [reference[0] if j == n // 2 else self.align(features[j], reference) for j in range(n)]
        fused = self.fusion(aligned, reference[0])
        d1 = _act(self.down1(fused))
        d2 = self.body(_act(self.down2(d1)))
        u2 = self.up2(torch.cat([_up(d2, d1), reference[1]], dim=1))
        u1 = self.up1(torch.cat([_up(u2, fused), reference[0]], dim=1))
        correction = self.out(u1)
        if self.align_scale > 1:
            correction = F.interpolate(correction, size=(H, W), mode="bilinear", align_corners=False)
        return expand(codes[:, n // 2] + correction)
