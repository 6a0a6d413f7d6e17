"""TemporalITM: recurrent video inverse tone mapping from temporal clues, as corrections of BT.2446
Method A inside a trust region.

Reference
---------
Deep Video Inverse Tone Mapping Based on Temporal Clues, supplementary material (the only part of
the paper available here, ``../shared/papers/video-itm-temporal-clues-supplementary.txt``):

- §4, Fig. 3 (a-b): the *Local Feature Alignment Block* aligns the previous frame's features to the
  current frame, then a correction convolutional block and a fusion convolutional block
  (:class:`LocalFeatureAlignment`);
- §4, Fig. 3 (c), Eq. 4-6: the *Global Feature Aggregation Block*, Swin transformer blocks [4, 5]
  (:class:`GlobalFeatureAggregation`, the blocks of :mod:`hdrconv.models.swin`): window
  self-attention ``SoftMax(Q K^T / sqrt(d) + B) V`` with a learnable relative position bias ``B``,
  ``h`` heads, ``X = MSA(LN(X)) + X, X = MLP(LN(X)) + X`` with a GELU MLP, regular and
  ``(floor(M/2), floor(M/2))``-shifted windows in alternate blocks;
- §4, Fig. 3 (d): the *Feature and Clue Propagation Module*, ExpandNet [6] (Marnerides et al. 2018:
  a local, a dilated and a global branch, concatenated and fused by a 1x1 convolution, SELU
  activations) (:class:`FeatureCluePropagation`);
- §2-3, Eq. 1-3 (auto-exposure, camera motion, the current frame at a high exposure): the training
  clips, :func:`hdrconv.train.samplers.video_itm_batch`.

What the supplementary leaves open, and the choices made
--------------------------------------------------------
- **The output is a bounded correction of BT.2446 Method A**, as in AnchoredITM
  (:mod:`hdrconv.models.anchored_arch`, :func:`~hdrconv.models.anchored_arch.correct_prior`):
  ``HDR = sat(prior, 1 + s) * 2 ** clamp(stops, TRUST_STOPS)``, the stops map predicted at low
  resolution and brought to full resolution by the fast guided filter along the SDR luma. Why: the
  learned models that predicted the HDR frame from scratch won on the training's own conditions and
  lost to Method A by 1 to 5.5 dB on real content (issue 11); with the trust region an untrained or
  out-of-distribution input degrades to Method A (every head starts at zero, so the untrained network
  *is* Method A) and never to garbage, and a wrong temporal clue (a misaligned previous frame, a
  missed cut) can move a pixel at most :data:`~hdrconv.models.anchored_arch.TRUST_STOPS` from it.
  The price: what the trust region excludes (a highlight more than 1.5 stops above Method A, a hue
  change) no clue can bring back. The correction also passes AnchoredITM's contrast floor
  (:func:`~hdrconv.models.anchored_arch.floor_contrast`), so the frame is never flatter than its
  SDR: without it the first trained weights left scikit-image's rocket photograph at 1.43 stops of
  log2 spread against the SDR's 1.59.
- **Alignment by a flow, not DCN**: the block predicts a dense flow from the current and previous
  features and warps with ``grid_sample``; one flow warps the features *and* the clues (the previous
  HDR estimate, the previous correction), which deformable convolution, whose offsets are per
  kernel tap and per channel group, cannot do for an image. The correction block
  ``c = w + Conv(LReLU(Conv([w, f])))`` repairs what a flow cannot represent (occlusions, the
  moving foreground); the fusion block ``f + Conv3x3(LReLU(Conv1x1([f, c])))`` merges it with the
  current features. The figure's exact layer counts are not in the text.
- **Resolutions**: the features live at 1/``downscale`` of the frame, the Swin blocks at a further
  1/``swin_downscale`` (global context at 1/8-1/16 of a frame), the ExpandNet global branch on a
  ``global_size`` x ``global_size`` grid; at full resolution only the thumbnail's pooling, Method A,
  one luma, the guided upsampling and the correction run (per-pixel arithmetic, no convolution).
- **State** (:class:`TemporalState`, carried from window to window by the model's ``process_window``):
  the previous frame's features, its HDR estimate (PQ, at feature resolution) and correction map,
  and clue statistics: the frame's mean log exposure (the change to the current frame is fed to the
  propagation module, a camera's auto-exposure step) and its luma histogram, whose distance to the
  current one detects a scene cut (:func:`~hdrconv.models.cuts.is_scene_cut`, the shared detector);
  a cut, detected or signalled by the window, restarts the state, so no shot leaks into the next.
  The first frame of a shot takes itself as its previous frame (flow zero, the clue its own Method A
  estimate) with a flag channel saying so: a static shot's second frame then sees what the first saw.
- **Training** (:mod:`hdrconv.train`): recurrently over short synthesised clips, gradients through
  every step, with the reconstruction loss and a temporal loss on the known warps
  (:func:`hdrconv.train.losses.temporal_loss`).

The training forward (:meth:`TemporalITMNet.forward`) maps a sequence of BT.709 R'G'B' frames to
PQ-coded BT.2020 R'G'B' like every network of the project; inference uses :meth:`TemporalITMNet.step`,
which stops at cd/m2, frame by frame.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from hdrconv.color.bt2446 import sdr_BT709_to_BT2020, sdr_to_hdr_BT2446_A
from hdrconv.color.conventions import BT2020_WEIGHTS, PQ_PEAK_NITS
from hdrconv.color.transfer import eotf_BT1886, eotf_inverse_ST2084
from hdrconv.models.anchored_arch import SATURATION, TRUST_STOPS, correct_prior, floor_contrast
from hdrconv.models.blocks import ResidualBlock, conv_layer, guided_upsample, luma_BT709, soft_bound, soft_histogram
from hdrconv.models.cuts import is_scene_cut
from hdrconv.models.fast_arch import BLACK_FLOOR
from hdrconv.models.swin import SwinBlock

NEGATIVE_SLOPE = 0.1
"""LeakyReLU slope of the convolutional blocks."""

EXPOSURE_FLOOR = 1e-3
"""Linear light added before the log of the mean log exposure: black pixels have none."""


@dataclass
class TemporalState:
    """What :meth:`TemporalITMNet.step` carries from one frame to the next (module docstring)."""

    features: torch.Tensor
    """``(N, C, h, w)`` the frame's encoder features."""
    clues: torch.Tensor
    """``(N, 4, h, w)`` its HDR estimate at feature resolution (PQ R'G'B': the correction applied to
    Method A of the thumbnail) and its correction map in stops."""
    exposure: torch.Tensor
    """``(N, 1)`` mean log2 linear luma of its SDR."""
    hist: torch.Tensor
    """``(N, bins)`` luma histogram of its thumbnail (scene cuts)."""


def warp(x: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    """``x`` ``(N, C, h, w)`` sampled at each pixel plus ``flow`` ``(N, 2, h, w)`` (x, y, pixels),
    bilinear, edges replicated. The sample positions in float32 whatever the autocast: float16
    resolves whole pixels only from 1024 on."""
    N, _, h, w = x.shape
    flow = flow.float()
    ys = torch.arange(h, device=x.device, dtype=torch.float32).view(1, h, 1)
    xs = torch.arange(w, device=x.device, dtype=torch.float32).view(1, 1, w)
    # align_corners=True: -1 and 1 are the centres of the first and last pixels
    gx = 2 * (xs + flow[:, 0]) / max(w - 1, 1) - 1
    gy = 2 * (ys + flow[:, 1]) / max(h - 1, 1) - 1
    return F.grid_sample(x.float(), torch.stack([gx, gy], dim=-1), mode="bilinear", padding_mode="border",
                         align_corners=True).to(x.dtype)


def _pq(nits: torch.Tensor) -> torch.Tensor:
    """PQ code values of cd/m2, floored: the PQ curve's slope is infinite at 0 cd/m2."""
    return eotf_inverse_ST2084(nits.clamp(BLACK_FLOOR, PQ_PEAK_NITS))


class LocalFeatureAlignment(nn.Module):
    """Local Feature Alignment Block (supplementary §4, Fig. 3 a-b; design in the module docstring):
    flow from the current and previous features, the previous features and clues warped by it, the
    correction block and the fusion block. The flow's last layer starts at zero (no motion)."""

    def __init__(self, features: int):
        super().__init__()
        C = features
        act = nn.LeakyReLU(NEGATIVE_SLOPE)
        self.flow_in = nn.Sequential(conv_layer(2 * C, C, 3), act)
        # at half the feature resolution, dilated: the flow must reach motions of several feature pixels
        self.flow_mid = nn.Sequential(conv_layer(C, C, 3, stride=2), act, conv_layer(C, C, 3, dilation=2), act)
        self.flow_out = conv_layer(C, 2, 3)
        nn.init.zeros_(self.flow_out.weight)
        nn.init.zeros_(self.flow_out.bias)
        self.correction = nn.Sequential(conv_layer(2 * C, C, 3), act, conv_layer(C, C, 3))
        self.fusion = nn.Sequential(conv_layer(2 * C, C, 1), act, conv_layer(C, C, 3))

    def forward(self, current: torch.Tensor, previous: torch.Tensor, clues: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor]:
        """The fused features ``(N, C, h, w)`` and the aligned ``clues``."""
        f = self.flow_in(torch.cat([current, previous], dim=1))
        g = F.interpolate(self.flow_mid(f), size=f.shape[-2:], mode="bilinear", align_corners=False)
        flow = self.flow_out(f + g)
        aligned = warp(torch.cat([previous, clues], dim=1), flow)
        warped, clues = aligned[:, :previous.shape[1]], aligned[:, previous.shape[1]:]
        corrected = warped + self.correction(torch.cat([warped, current], dim=1))
        return current + self.fusion(torch.cat([current, corrected], dim=1)), clues


class GlobalFeatureAggregation(nn.Module):
    """Global Feature Aggregation Block (supplementary §4, Fig. 3 c, Eq. 4-6): a strided embedding
    to 1/``stride`` of the feature resolution, ``depth`` Swin blocks alternating regular and
    ``floor(M/2)``-shifted windows, LayerNorm, a convolution back to the features, bilinearly
    upsampled and added to them (residual)."""

    def __init__(self, features: int, embed_dim: int, depth: int, num_heads: int, window_size: int,
                 mlp_ratio: float, stride: int):
        super().__init__()
        self.embed = nn.Conv2d(features, embed_dim, stride, stride=stride) if stride > 1 else conv_layer(
            features, embed_dim, 1)
        self.blocks = nn.ModuleList(SwinBlock(embed_dim, num_heads, window_size, 0 if i % 2 == 0 else window_size // 2,
                                              mlp_ratio) for i in range(depth))
        self.norm = nn.LayerNorm(embed_dim)
        self.unembed = conv_layer(embed_dim, features, 3)

    def forward(self, f: torch.Tensor) -> torch.Tensor:
        t = self.embed(f).permute(0, 2, 3, 1)
        for block in self.blocks:
            t = block(t)
        g = self.unembed(self.norm(t).permute(0, 3, 1, 2).contiguous())
        return f + F.interpolate(g, size=f.shape[-2:], mode="bilinear", align_corners=False)


class FeatureCluePropagation(nn.Module):
    """Feature and Clue Propagation Module (supplementary §4, Fig. 3 d): ExpandNet's three branches
    (Marnerides et al. 2018, §3: local, two 3x3 convolutions; dilated, ``dilated_layers`` 3x3
    convolutions of dilation 2; global, the input pooled to ``global_size`` x ``global_size`` and
    strided convolutions to a vector broadcast over the frame), concatenated, fused by a 1x1
    convolution, SELU throughout as in ExpandNet. Out: the correction map (stops, before bounding)
    and the saturation head, both starting at zero."""

    def __init__(self, in_channels: int, width: int, dilated_layers: int, global_size: int):
        super().__init__()
        act = nn.SELU()
        E = width
        self.global_size = global_size
        self.local = nn.Sequential(conv_layer(in_channels, E, 3), act, conv_layer(E, E, 3), act)
        dilated: list[nn.Module] = []
        for i in range(dilated_layers):
            dilated += [conv_layer(in_channels if i == 0 else E, E, 3, dilation=2), act]
        self.dilated = nn.Sequential(*dilated)
        strided: list[nn.Module] = []
        size, c = global_size, in_channels
        while size > 2:
            strided += [conv_layer(c, E, 3, stride=2), act]
            size, c = size // 2, E
        self.globl = nn.Sequential(*strided)
        self.fuse = nn.Sequential(conv_layer(3 * E, E, 1), act)
        self.stops = conv_layer(E, 1, 3)
        self.saturation = nn.Linear(E, 1)
        for layer in (self.stops, self.saturation):
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        g = self.globl(F.adaptive_avg_pool2d(x, self.global_size)).mean(dim=(2, 3))
        fused = self.fuse(torch.cat([self.local(x), self.dilated(x), g[:, :, None, None].expand(-1, -1, *x.shape[-2:])],
                                    dim=1))
        return self.stops(fused), self.saturation(g)


class TemporalITMNet(nn.Module):
    """The network of :mod:`hdrconv.models.temporal_arch` (see the module docstring).

    Parameters
    ----------
    features
        Channels of the encoder features and of the alignment block.
    downscale
        Feature resolution divisor (1/4 of the frame in the paper-like configuration).
    encoder_blocks
        Residual blocks of the feature encoder.
    embed_dim, depth, num_heads, window_size, mlp_ratio
        The Swin blocks (Swin/SwinIR's names): channels, blocks (alternately regular and shifted),
        heads, window ``M`` in tokens, MLP hidden width / ``embed_dim``.
    swin_downscale
        Token resolution divisor relative to the features.
    expand_width, dilated_layers, global_size
        ExpandNet branches: channels (64 in ExpandNet), layers of the dilated branch (4 in ExpandNet),
        side of the grid the global branch pools to.
    bins
        Bins of the thumbnail luma histogram (scene cuts).
    radius, eps
        Box radius (feature pixels) and regularisation of the guided upsampling.
    """

    def __init__(self, features: int = 64, downscale: int = 4, encoder_blocks: int = 2, embed_dim: int = 96,
                 depth: int = 6, num_heads: int = 6, window_size: int = 8, mlp_ratio: float = 4.0,
                 swin_downscale: int = 2, expand_width: int = 64, dilated_layers: int = 4, global_size: int = 16,
                 bins: int = 16, radius: int = 1, eps: float = 1e-4):
        super().__init__()
        self.downscale, self.bins, self.radius, self.eps = downscale, bins, radius, eps
        C = features
        act = nn.LeakyReLU(NEGATIVE_SLOPE)
        # thumbnail: R'G'B', luma (area averages) and the max-pooled max(R', G', B'), which keeps the
        # extent of a clipped highlight that averaging blurs
        self.encoder = nn.Sequential(conv_layer(5, C, 3), act, *(ResidualBlock(C) for _ in range(encoder_blocks)))
        self.align = LocalFeatureAlignment(C)
        self.aggregate = GlobalFeatureAggregation(C, embed_dim, depth, num_heads, window_size, mlp_ratio,
                                                  swin_downscale)
        # current and fused features, the aligned HDR estimate (3) and correction (1), the exposure
        # change since the previous frame and the first-frame flag
        self.propagate = FeatureCluePropagation(2 * C + 6, expand_width, dilated_layers, global_size)
        self.register_buffer("luminance", torch.tensor([BT2020_WEIGHTS]), persistent=False)

    def thumbnail(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, 5, h, w)`` at 1/``downscale``: area-averaged R'G'B' and luma, max-pooled max(R', G', B')."""
        size = (-(-x.shape[-2] // self.downscale), -(-x.shape[-1] // self.downscale))
        low = F.adaptive_avg_pool2d(x, size)
        peak = F.adaptive_max_pool2d(x.amax(dim=1, keepdim=True), size)
        return torch.cat([low, luma_BT709(low), peak], dim=1)

    def analyse(self, low: torch.Tensor, prior_low: torch.Tensor, state: TemporalState | None
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """Everything learned, at feature resolution: the correction map ``(N, 1, h, w)`` in stops and
        the saturation ``(N, 1)``, both bounded; the features and the exposure for the next state."""
        f = self.encoder(low)
        exposure = torch.log2(eotf_BT1886(low[:, 3:4]).float() + EXPOSURE_FLOOR).mean(dim=(2, 3))
        N, _, h, w = f.shape
        if state is None:
            previous, clues = f, torch.cat([_pq(prior_low), torch.zeros_like(prior_low[:, :1])], dim=1)
            change, first = torch.zeros_like(exposure), 1.0
        else:
            previous, clues, change, first = state.features, state.clues, exposure - state.exposure, 0.0
        fused, clues = self.align(f, previous, clues.to(f.dtype))
        fused = self.aggregate(fused)
        stats = torch.cat([change, torch.full_like(change, first)], dim=1).to(f.dtype)
        stops, s = self.propagate(torch.cat([f, fused, clues, stats[:, :, None, None].expand(N, 2, h, w)], dim=1))
        return soft_bound(stops.float(), *TRUST_STOPS), soft_bound(s.float(), *SATURATION), f, exposure

    def step(self, x: torch.Tensor, state: TemporalState | None, detect_cuts: bool = False,
             autocast: torch.dtype | None = None) -> tuple[torch.Tensor, TemporalState]:
        """One frame ``(N, 3, H, W)`` given the state after the previous one (None at the start of a
        shot): linear BT.2020 in cd/m2 and the next state. ``detect_cuts`` restarts the state where
        :func:`~hdrconv.models.cuts.is_scene_cut` sees a cut (one stream, ``N = 1``); the learned
        part runs under ``autocast`` (a reduced precision, e.g. float16 on CUDA), Method A and the
        correction in float32."""
        # the per-pixel colour arithmetic in float32 also under a caller's autocast (the training's
        # bfloat16 would round Method A's light to 8 significant bits)
        full = torch.autocast(x.device.type, enabled=False)
        with full:
            low = self.thumbnail(x)
            hist = soft_histogram(low[:, 3:4], self.bins)
            if detect_cuts and state is not None and is_scene_cut(hist, state.hist):
                state = None
            prior = sdr_to_hdr_BT2446_A(sdr_BT709_to_BT2020(x))
            # the clues at feature resolution from the thumbnail, not from pooled full-resolution frames:
            # two full-resolution passes fewer (the pooling of the prior and of the output, 35 ms each
            # per 1080p frame, profiled on the shared 2-core CPU)
            prior_low = sdr_to_hdr_BT2446_A(sdr_BT709_to_BT2020(low[:, :3]))
        learned = (torch.autocast(x.device.type, dtype=autocast) if autocast is not None
                   else contextlib.nullcontext())
        with learned:
            stops_low, s, f, exposure = self.analyse(low, prior_low, state)
        with full:
            # never flatter than its SDR (the contrast floor of AnchoredITM, step 4 of its docstring)
            alpha, mean = floor_contrast(x, lambda y: guided_upsample(low[:, 3:4], stops_low, y, self.radius,
                                                                      self.eps), s, self.luminance, self.downscale)
            stops_low = mean + alpha * (stops_low - mean)
            stops = guided_upsample(low[:, 3:4], stops_low, luma_BT709(x), self.radius, self.eps)
            estimate = _pq(correct_prior(prior_low, s, stops_low, self.luminance))
            hdr = correct_prior(prior, s, stops, self.luminance)
        return hdr, TemporalState(f, torch.cat([estimate, stops_low], dim=1), exposure, hist)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """A sequence ``(N, T, 3, H, W)`` of BT.709 R'G'B' in [0, 1], one shot, the state carried from
        frame to frame (training: gradients through every step) -> PQ-coded BT.2020 R'G'B' in [0, 1],
        ``(N, T, 3, H, W)``."""
        state, out = None, []
        for t in range(x.shape[1]):
            hdr, state = self.step(x[:, t], state)
            out.append(_pq(hdr))
        return torch.stack(out, dim=1)
