"""AnchoredITM: BT.2446 Method A with learned corrections inside a trust region.

Why this design
---------------
Both earlier learned models (IRNet-2, :mod:`~hdrconv.models.irnet_arch`; FastITM,
:mod:`~hdrconv.models.fast_arch`) predict the HDR frame from scratch, or around the BT.2408 placement
of SDR with wide parameter bounds. Trained on synthesised SDR, they won on the validation that shared
the training's conditions and lost to BT.2446 Method A on real content they had never seen, by 1 to
5.5 dB PSNR-PQ, with washed-out colour: on ordinary, well-exposed SDR the networks predicted
parameters near their bounds (exponents of 1.5, a flattened colour matrix). A frame unlike the
training data should degrade to the strongest analytic prior, not to the network's extrapolation.
So here the network never produces the picture; it corrects Method A
(:func:`hdrconv.color.bt2446.sdr_to_hdr_BT2446_A`, the strongest operator on the held-out protocol
of :mod:`hdrconv.data.protocol`) and every correction is bounded by construction:

1. **Prior**: Method A of the SDR frame, linear BT.2020 in cd/m2 (SDR peak white at 1000 cd/m2).
2. **Global branch** (the frame's 1/``downscale`` thumbnail: convolutions, mean and max pooling, the
   luma histogram and the full-resolution highlight fractions, as in FastITM) predicts
   - an exposure curve ``c(Y')``, ``knots`` values in stops over the SDR luma, each within
     :data:`CURVE_STOPS`: the brightness Method A gives each SDR level, re-placed for this frame
     (Method A puts SDR white at 1000 cd/m2 and SDR 50 % at 76 cd/m2 whatever the content);
   - a saturation factor ``1 + s``, ``s`` within :data:`SATURATION` (around the prior's luminance).
3. **Local branch** (thumbnail CNN conditioned on the global features) predicts a gain map in stops
   within +-:data:`LOCAL_STOPS`, brought to full resolution by the fast guided filter along the
   SDR luma (He & Sun 2015), so a small specular highlight and a large white wall can expand apart.
4. **Contrast floor** (:func:`contrast_floor`): the corrections are shrunk towards their mean by the
   largest factor ``alpha`` in [0, 1] at which the output, on a regular subsample of the frame, is
   not flatter (spread of log2 luminance, :func:`~hdrconv.data.metrics.log_spread`) than the SDR as
   an SDR display shows it, or than Method A where Method A itself is flatter. The trust region
   bounds each pixel but not the spread: on scikit-image's coffee photograph the first
   display-referred weights set the local gain near its -1 stop bound over the bright cup and the
   curve +0.9 stops above Method A, and the output came out flatter than its own SDR (2.50 against
   2.55 stops). With ``alpha`` = 0 the output is Method A times one gain, so the floor can always
   be met.
5. **Full resolution**: ``HDR = sat(prior, 1 + s) * 2 ** bound(c(Y') + local)``, the sum bounded
   to :data:`TRUST_STOPS`, the result capped at the training grade's mastering peak (1000 cd/m2). Whatever the network outputs, each pixel stays within those stops of
   Method A's luminance with its hue; with all heads at zero (the initialisation) the model *is*
   Method A.

Cost at full resolution: Method A (three powers), one luma, one look-up, a guided upsampling of two
coefficient maps, and a few multiply-adds. Video: the camera's auto-exposure changes are undone before
Method A (:mod:`hdrconv.models.exposure`), and the global parameters are smoothed over time and
restarted at scene cuts exactly as FastITM's (:func:`~hdrconv.models.fast_arch.smooth_parameters`,
:func:`~hdrconv.models.cuts.is_scene_cut`); the local gain follows the content.

The training forward (:meth:`AnchoredITMNet.forward`) returns PQ-coded BT.2020 R'G'B' in [0, 1] like
every network of the project; inference uses :meth:`AnchoredITMNet.render`, which stops at cd/m2.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch

from hdrconv.color.bt2446 import sdr_BT709_to_BT2020, sdr_to_hdr_BT2446_A
from hdrconv.color.conventions import BT2020_WEIGHTS, PQ_PEAK_NITS, MasteringDisplay
from hdrconv.color.kernels import lookup
from hdrconv.color.transfer import eotf_inverse_ST2084
from hdrconv.data.metrics import log_spread
from hdrconv.models.analytic import sdr_in_hdr_BT2408
from hdrconv.models.blocks import (ThumbnailNet, guided_upsample, luma_BT709, piecewise_linear, soft_bound,
                                   soft_histogram)
from hdrconv.models.cuts import is_scene_cut
from hdrconv.models.exposure import ExposureState, apply_exposure, exposure_gain_table, track_exposure
from hdrconv.models.fast_arch import BLACK_FLOOR, smooth_parameters

CURVE_STOPS = (-3.0, 1.0)
"""Bounds of the exposure curve, stops against Method A: Method A is bright (SDR white at 1000 cd/m2,
where the training grade puts a scene's reference white at 203), so there is more room below."""

LOCAL_STOPS = 1.0
"""Bound of the local gain, stops."""

TRUST_STOPS = (-3.5, 1.5)
"""Bounds of the whole luminance correction, stops against Method A."""

MASTERING_PEAK_NITS = MasteringDisplay().max_nits
"""Peak of the training grade (the HDR10 mastering display default, 1000 cd/m2): the output's cap."""

SATURATION = (-0.1, 0.3)
"""Bounds of ``s`` of the saturation factor ``1 + s`` around the prior's luminance. Method A's own
colour scaling gives 1.13-1.16x the SDR's mean ICtCp chroma on the four real photographs of
``bench/real_photographs.py``; with ``s`` down to -0.4 (the first trained weights) the model made the
astronaut paler than its SDR (0.070 against 0.074) although the training grade is display-referred.
Below -0.1 the HDR could come out paler than the SDR it came from: the washed-out failure of the
earlier learned models, excluded by construction."""


def correct_prior(prior: torch.Tensor, saturation: torch.Tensor, stops: torch.Tensor,
                  weights: torch.Tensor) -> torch.Tensor:
    """Step 4 of the module docstring, the trust region every model built on Method A shares:
    ``sat(prior, 1 + s) * 2 ** clamp(stops, TRUST_STOPS)``, capped at :data:`MASTERING_PEAK_NITS`.
    ``prior`` ``(N, 3, H, W)`` linear BT.2020 cd/m2, ``saturation`` ``s`` ``(N, 1)``, ``stops``
    ``(N, 1, H, W)``, ``weights`` the ``(1, 3)`` BT.2020 luminance weights. Outside autograd ``prior``
    and ``stops`` are overwritten."""
    # a hard bound on the sum: each term is soft-bounded already, and a soft bound of a full-
    # resolution map costs two tanh and a select per pixel
    stops = stops.clamp(*TRUST_STOPS)
    Y = torch.matmul(weights.to(prior.dtype), prior.flatten(2)).view_as(stops)
    s = saturation[:, :, None, None]
    # Y + (1 + s) (prior - Y): more saturation can push a channel of a saturated colour below 0.
    # In place outside autograd: each out-of-place pass over a 1080p frame costs ~30 ms of
    # allocation (567 ms a frame before, ms after)
    # Capped at the training grade's mastering peak: an upward correction of Method A's 1000 cd/m2
    # white would otherwise reach 2800 cd/m2 (astronaut, mid-training), beyond any target it saw
    if torch.is_grad_enabled():
        return ((prior * (1 + s) - Y * s).clamp(min=0) * torch.exp2(stops)).clamp(max=MASTERING_PEAK_NITS)
    return prior.mul_(1 + s).sub_(Y.mul_(s)).clamp_(min=0).mul_(stops.exp2_()).clamp_(max=MASTERING_PEAK_NITS)


def contrast_floor(sdr: torch.Tensor, saturation: torch.Tensor, stops: torch.Tensor, weights: torch.Tensor,
                   iterations: int = 8) -> torch.Tensor:
    """Step 4 of the module docstring: the largest ``alpha`` ``(N, 1, 1, 1)`` in [0, 1] (bisection,
    ``iterations`` halvings) at which ``correct_prior`` with ``mean + alpha (stops - mean)`` is not
    flatter than the SDR shown at BT.2408 levels, nor than Method A where that is flatter. ``sdr``
    ``(N, 3, h, w)`` R'G'B' pixels (a subsample of the frame), ``stops`` ``(N, 1, h, w)`` the
    correction at them. The lower end of the bisection always meets the floor, so the result does."""
    with torch.no_grad():
        rgb = sdr.float()
        prior = sdr_to_hdr_BT2446_A(sdr_BT709_to_BT2020(rgb))
        stops = stops.float()
        mean = stops.mean(dim=(2, 3), keepdim=True)

        def spread(alpha):
            return log_spread(correct_prior(prior.clone(), saturation.float(), mean + alpha * (stops - mean),
                                            weights))

        zero, one = torch.zeros_like(mean), torch.ones_like(mean)
        target = torch.minimum(log_spread(sdr_in_hdr_BT2408(rgb)), spread(zero))
        ok = (spread(one) >= target).view_as(mean)
        if bool(ok.all()):  # the usual case: the corrections keep the contrast, nothing to search
            return one.to(sdr.dtype)
        # where the whole correction already meets the floor, lo = hi = 1 and stays there
        lo, hi = torch.where(ok, one, zero), one
        for _ in range(iterations):
            mid = (lo + hi) / 2
            meets = (spread(mid) >= target).view_as(mean)
            lo, hi = torch.where(meets, mid, lo), torch.where(meets, hi, mid)
        return lo.to(sdr.dtype)


def floor_contrast(x: torch.Tensor, stops_at: Callable[[torch.Tensor], torch.Tensor], saturation: torch.Tensor,
                   weights: torch.Tensor, stride: int) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`contrast_floor` on every ``stride``-th pixel of every ``stride``-th row of the frame
    ``x`` ``(N, 3, H, W)``, not on the thumbnail: its area average narrows the spread of the SDR and
    of the output differently (on a ramp from black the floor met on the thumbnail left the frame
    0.025 stops flatter than its SDR). ``stops_at`` gives the correction at pixels of luma ``y``
    ``(N, 1, h, w)``. Returns ``alpha`` and the mean correction over the subsample, both
    ``(N, 1, 1, 1)``: the floored correction is ``mean + alpha (stops - mean)``."""
    sub = x[..., ::stride, ::stride]
    stops = stops_at(luma_BT709(sub))
    return contrast_floor(sub, saturation, stops, weights), stops.mean(dim=(2, 3), keepdim=True)


class AnchoredITMNet(ThumbnailNet):
    """The network of :mod:`hdrconv.models.anchored_arch` (see the module docstring).

    Parameters
    ----------
    features
        Channels of the local branch.
    global_features
        Channels of the last global-branch convolution and width of its MLP.
    knots
        Knots of the exposure curve over the SDR luma.
    bins
        Bins of the thumbnail luma histogram fed to the global branch.
    downscale
        Thumbnail resolution divisor.
    lut_size
        Entries of the exposure-curve look-up table evaluated at full resolution.
    radius, eps
        Box radius (thumbnail pixels) and regularisation of the guided upsampling.
    highlight_levels
        Signal levels of the full-resolution highlight statistics fed to the global branch.
    """

    def __init__(self, features: int = 16, global_features: int = 64, knots: int = 17, bins: int = 16,
                 downscale: int = 8, lut_size: int = 1024, radius: int = 1, eps: float = 1e-4,
                 highlight_levels: tuple[float, ...] = (0.8, 0.9, 0.95, 0.98, 0.998)):
        # zero heads and local gain: the network starts as BT.2446 Method A
        super().__init__({"curve": knots, "saturation": 1}, features, global_features, bins, downscale,
                         highlight_levels)
        self.knots, self.lut_size = knots, lut_size
        self.radius, self.eps = radius, eps
        self.register_buffer("luminance", torch.tensor([BT2020_WEIGHTS]), persistent=False)

    def analyse(self, x: torch.Tensor, low: torch.Tensor | None = None
                ) -> tuple[dict[str, torch.Tensor], torch.Tensor, torch.Tensor]:
        """Everything learned, from the thumbnail of ``x`` ``(N, 3, H, W)`` (``low`` when the caller
        has it): the global parameters (``curve``: ``(N, K)`` stops, ``saturation``: ``(N, 1)``), the
        thumbnail and the local gain ``(N, 1, h, w)`` in stops at thumbnail resolution."""
        low = self.thumbnail(x) if low is None else low
        z = self.global_code(x, low)
        params = {"curve": soft_bound(self.head_curve(z), *CURVE_STOPS),
                  "saturation": soft_bound(self.head_saturation(z), *SATURATION)}
        local = LOCAL_STOPS * torch.tanh(self.local_map(low, z) / LOCAL_STOPS)
        curve = piecewise_linear(params["curve"], self.lut_size)
        alpha, mean = floor_contrast(
            x, lambda y: guided_upsample(low[:, 3:], local, y, self.radius, self.eps) + lookup(curve, y),
            params["saturation"], self.luminance, self.downscale)
        # folded into the heads: the curve is linear in its knots, so alpha c + (1 - alpha) mean,
        # with alpha local, is mean + alpha (c + local - mean) at every pixel
        params["curve"] = alpha.flatten(1) * params["curve"] + (1 - alpha.flatten(1)) * mean.flatten(1)
        return params, low, alpha * local

    def render(self, x: torch.Tensor, params: dict[str, torch.Tensor], low: torch.Tensor,
               local: torch.Tensor) -> torch.Tensor:
        """Apply the corrections to Method A of the full-resolution ``x``: linear BT.2020 in cd/m2."""
        prior = sdr_to_hdr_BT2446_A(sdr_BT709_to_BT2020(x))
        y = luma_BT709(x)
        stops = guided_upsample(low[:, 3:], local, y, self.radius, self.eps)
        # a hard bound on the sum: each term is soft-bounded already, and a soft bound of a full-
        # resolution map costs two tanh and a select per pixel
        stops = stops + lookup(piecewise_linear(params["curve"], self.lut_size), y)
        return correct_prior(prior, params["saturation"], stops, self.luminance)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """BT.709 R'G'B' in [0, 1] -> PQ-coded BT.2020 R'G'B' in [0, 1] (training and evaluation)."""
        hdr = self.render(x, *self.analyse(x))
        # floored: the PQ curve's slope is infinite at 0 cd/m2
        return eotf_inverse_ST2084(hdr.clamp(BLACK_FLOOR, PQ_PEAK_NITS))

    def video_frame(self, x: torch.Tensor, state: AnchoredState | None, beta: float
                    ) -> tuple[torch.Tensor, AnchoredState]:
        """One frame ``(1, 3, H, W)`` of a video given the state after the previous frame (None at the
        start): linear BT.2020 in cd/m2, the global parameters smoothed within the shot."""
        low = self.thumbnail(x)
        hist = soft_histogram(low[:, 3:], self.bins)
        cut = state is None or is_scene_cut(hist, state.hist)
        exposure, fading = track_exposure(None if state is None else state.exposure, low[:, 3:], cut)
        if exposure.stops:
            x = apply_exposure(x, exposure_gain_table(exposure.stops, self.lut_size).to(x))
            low = self.thumbnail(x)
        params, low, local = self.analyse(x, low)
        params = smooth_parameters(params, None if cut or fading else state.params, beta)
        return self.render(x, params, low, local), AnchoredState(params, hist, exposure)


@dataclass
class AnchoredState:
    """What :meth:`AnchoredITMNet.video_frame` carries from one frame to the next."""

    params: dict[str, torch.Tensor]
    """Smoothed global parameters."""
    hist: torch.Tensor
    """Thumbnail luma histogram ``(1, bins)`` (scene cuts)."""
    exposure: ExposureState
    """Exposure stabilisation (:func:`~hdrconv.models.exposure.track_exposure`)."""
