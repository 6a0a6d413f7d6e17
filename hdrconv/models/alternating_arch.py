"""The coarse-to-fine HDR video network: CoarseNet (:mod:`~hdrconv.models.coarse_arch`) three times,
RefineNet (:mod:`~hdrconv.models.refine_arch`) once, and the well-exposed blend.

Reference
---------
Chen G., Chen C., Guo S., Liang Z., Wong K.-Y. K., Zhang L. (2021). HDR Video Reconstruction: A
Coarse-to-fine Network and A Real-world Benchmark Dataset. ICCV. §3.1 (pipeline, Fig. 2: CoarseNet
reconstructs the coarse HDR of frames i-1, i, i+1 from five LDR frames, RefineNet refines frame i from
those three), §3.3 Eq. 4-5 and Fig. 5 (the final HDR keeps CoarseNet's result where the reference frame
is well exposed), Table 4 (6.1 M parameters: 3.1 M CoarseNet, 3.0 M RefineNet).

With ``exposures`` alternating exposures CoarseNet merges ``2 (exposures - 1) + 1`` frames (3 or 5,
:mod:`~hdrconv.models.coarse_arch`), so the network sees ``2 exposures + 1`` frames (5 or 7): the model's
``context`` is ``(exposures, exposures)`` around its one target.

**Well-exposed mask** (Eq. 5, Fig. 5), per pixel and channel of the reference LDR frame ``L``: a
reference darker than some other input frame (the low exposure, which a brighter frame can clean up)
is well exposed from :data:`LOW_THRESHOLD` up, ``(L / 0.15) ** 2`` below; one brighter than some other
frame (the high exposure, whose clipped regions a darker one fills) up to :data:`HIGH_THRESHOLD`,
``((1 - L) / 0.1) ** 2`` above (the mirror image in Fig. 5 b). The middle exposure of three has both
limits (the paper describes three exposures only in its supplementary material, not available here;
this is the reading of Eq. 5 for a reference with both a darker and a brighter neighbour).

Domain: the frames ``(N, T, 3, H, W)`` are gamma-2.2 LDR in [0, 1] (``F^-1(I) ** (1/2.2)``, §3.1,
:data:`~hdrconv.color.conventions.ALT_EXP_GAMMA`: the one assumption on the input, made by
:func:`~hdrconv.models.coarse_arch.to_radiance`), ``stops`` ``(N, T)`` each frame's exposure; the output
is linear BT.709 radiance of the centre frame in units of the EV 0 clipping level.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from hdrconv.models.blocks import pad_to_multiple
from hdrconv.models.coarse_arch import CoarseNet
from hdrconv.models.refine_arch import RefineNet

LOW_THRESHOLD = 0.15
"""Below this LDR value a low-exposure reference is not well exposed (§3.3, after Kalantari et al. 2013)."""
HIGH_THRESHOLD = 0.9
"""Above this LDR value a high-exposure reference is not well exposed (§3.3)."""


def well_exposed_mask(ldr: torch.Tensor, low: torch.Tensor, high: torch.Tensor) -> torch.Tensor:
    """Eq. 5 / Fig. 5: the mask ``M`` ``(N, 3, H, W)`` of the reference LDR frames ``ldr``; ``low`` and
    ``high`` ``(N,)`` bool say whether each reference has a brighter and a darker frame beside it
    (module docstring)."""
    L = ldr.clamp(0, 1)
    ramp_low = torch.where(L >= LOW_THRESHOLD, torch.ones_like(L), (L / LOW_THRESHOLD) ** 2)
    ramp_high = torch.where(L <= HIGH_THRESHOLD, torch.ones_like(L), ((1 - L) / (1 - HIGH_THRESHOLD)) ** 2)
    one = torch.ones_like(L)
    return (torch.where(low.view(-1, 1, 1, 1), ramp_low, one) * torch.where(high.view(-1, 1, 1, 1), ramp_high, one))


class AlternatingExposureNet(nn.Module):
    """The coarse-to-fine network (module docstring). Constructor defaults: the paper's network
    (6.1 M parameters with two exposures).

    Parameters
    ----------
    exposures
        Alternating exposures of the footage (2 or 3).
    flow_levels, flow_channels, flow_scale, weight_channels
        CoarseNet's (:class:`~hdrconv.models.coarse_arch.CoarseNet`).
    C, deformable_groups, extract_blocks, reconstruct_blocks, align_scale
        RefineNet's (:class:`~hdrconv.models.refine_arch.RefineNet`).
    """

    def __init__(self, exposures: int = 2, flow_levels: int = 4, flow_channels: tuple[int, ...] = (32, 64, 32, 16),
                 flow_scale: int = 1, weight_channels: tuple[int, int, int] = (64, 128, 256), C: int = 64,
                 deformable_groups: int = 8, extract_blocks: int = 5, reconstruct_blocks: int = 7,
                 align_scale: int = 1):
        super().__init__()
        if exposures not in (2, 3):
            raise ValueError(f"2 or 3 alternating exposures, got {exposures}")
        self.exposures = exposures
        self.coarse = CoarseNet(2 * exposures - 1, flow_levels, flow_channels, flow_scale, weight_channels)
        self.refine = RefineNet(C, deformable_groups, extract_blocks, reconstruct_blocks, align_scale)

    @property
    def frames(self) -> int:
        """Input frames per output frame: ``2 exposures + 1``."""
        return 2 * self.exposures + 1

    def forward(self, ldr: torch.Tensor, stops: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``ldr`` ``(N, T, 3, H, W)``, ``stops`` ``(N, T)``, T = :attr:`frames` (module docstring) ->
        (HDR ``H_i`` of Eq. 4, CoarseNet's ``H_i^c``, the mask ``M_i``), each ``(N, 3, H, W)``: the
        training loss needs all three, inference the first."""
        N, T, _, H, W = ldr.shape
        if T != self.frames or stops.shape != (N, T):
            raise ValueError(f"{self.exposures} exposures need {self.frames} frames and their exposures, got "
                             f"{tuple(ldr.shape)} and {tuple(stops.shape)}")
        c, k = T // 2, self.exposures - 1
        x = pad_to_multiple(ldr, math.lcm(self.coarse.multiple, self.refine.multiple))
        # the coarse HDR of frames c-1, c, c+1 in one batch
        triples = torch.cat([x[:, j - k:j + k + 1] for j in (c - 1, c, c + 1)])
        triple_stops = torch.cat([stops[:, j - k:j + k + 1] for j in (c - 1, c, c + 1)])
        coarse = self.coarse(triples, triple_stops).view(3, N, 3, *x.shape[-2:]).transpose(0, 1)
        refined = self.refine(coarse)
        reference = stops[:, c:c + 1]
        others = torch.cat([stops[:, :c], stops[:, c + 1:]], dim=1)
        mask = well_exposed_mask(x[:, c], (others > reference).any(dim=1), (others < reference).any(dim=1))
        hdr = mask * coarse[:, 1] + (1 - mask) * refined
        return hdr[..., :H, :W], coarse[:, 1, :, :H, :W], mask[..., :H, :W]
