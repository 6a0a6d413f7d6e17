"""Exposure stabilisation of SDR video: a camera's auto-exposure, undone before the mapping.

A camera's auto-exposure brightens and darkens the whole SDR frame as it pans (the video ITM
supplementary simulates exactly this, §2 Eq. 1-3), and an expanding curve amplifies each of those
moves in the highlights. Measured on the 10-second clips of ``bench/flicker.py`` (flicker in excess
of the ground truth's):

- FastITM: +0.0075 without stabilisation against BT.2446 Method A's +0.0055; with it, +0.0018 (and
  PSNR-PQ on those clips 30.35 dB instead of 29.06);
- AnchoredITM: +0.0111 without it against Method A's +0.0080; with it, +0.0045 (worst clip +0.0128
  against Method A's +0.0316).

The change of exposure between consecutive frames is estimated from their thumbnails
(:func:`exposure_change`) and integrated within the shot (:func:`stabilise_exposure`); the frame is
brought back to the shot's exposure before the mapping (at most :data:`EXPOSURE_LIMIT_STOPS`, leaking
back at :data:`EXPOSURE_LEAK` per frame so that a deliberate change - a fade, a light switched on - is
followed after a few seconds), with pixels near clipping left as they are (their scene value is
unknown, :func:`exposure_gain_table`). After a cut or a dark frame, nothing is compensated until the
exposure has settled (:data:`EXPOSURE_SETTLED`), so that a fade from black ends at the shot's own
brightness; a fade to black is held up by at most the limit until it reaches black.
:func:`track_exposure` is that policy, one frame at a time, for every model that uses it.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from hdrconv.color.conventions import BT1886_GAMMA
from hdrconv.color.kernels import lookup
from hdrconv.models.blocks import luma_BT709
from hdrconv.models.cuts import EXPOSURE_AGREEMENT, pixels_disagree

EXPOSURE_BAND = (0.08, 0.85)
"""Thumbnail luma range whose pixels measure an exposure change: below, 8-bit noise and black
crush; above, the camera's shoulder and clipping hide the change."""

EXPOSURE_KNEE = 0.8
"""Signal level above which the exposure compensation fades out, reaching none at 1.0."""

EXPOSURE_LIMIT_STOPS = 1.0
"""Largest exposure compensation, in stops of linear light."""

EXPOSURE_SETTLED = 0.02
"""Exposure change per frame, in stops, below which a shot's exposure counts as settled: a fade from
black (1 s: 0.06 stops per frame at its end) is not compensated."""

EXPOSURE_LEAK = 0.99
"""Per-frame decay of the exposure compensation: a time constant of 100 frames (4 s at 24 fps)."""


def exposure_change(previous: torch.Tensor, current: torch.Tensor, band: tuple[float, float] = EXPOSURE_BAND,
                    min_fraction: float = 0.1, agreement: float = EXPOSURE_AGREEMENT) -> float | None:
    """Exposure change from one frame to the next, in stops of linear light, from their thumbnail
    lumas ``(1, 1, h, w)``.

    The median over co-located thumbnail pixels inside ``band`` in both frames of
    ``gamma log2(Y'_t / Y'_(t-1))`` (``gamma`` = 2.4, BT.1886): an exposure change scales every such
    pixel alike, while motion moves a minority of them either way, which the median ignores. 0 when
    fewer than ``min_fraction`` of the pixels are usable (a dark or clipped frame tells nothing). None
    when fewer than ``agreement`` of them agree on the median
    (:func:`~hdrconv.models.cuts.pixels_disagree`): not one scene re-exposed but a cut the histograms
    missed.
    """
    lo, hi = band
    usable = (previous > lo) & (previous < hi) & (current > lo) & (current < hi)
    if usable.float().mean().item() < min_fraction:
        return 0.0
    ratios = BT1886_GAMMA * torch.log2(current[usable] / previous[usable])
    median = ratios.median()
    if pixels_disagree(ratios, median, agreement):
        return None
    return median.item()


def stabilise_exposure(stops: float, change: float, leak: float = EXPOSURE_LEAK,
                       limit: float = EXPOSURE_LIMIT_STOPS) -> float:
    """The next frame's exposure compensation: the previous one decayed by ``leak``, minus the
    measured ``change``, within +-``limit`` stops."""
    return min(limit, max(-limit, leak * stops - change))


def exposure_gain_table(stops: float, size: int, knee: float = EXPOSURE_KNEE) -> torch.Tensor:
    """Look-up table ``(1, size)`` over luma ``Y'`` in [0, 1] of the signal gain that changes the
    exposure by ``stops`` (``2 ** (stops / gamma)``, BT.1886 gamma 2.4) below ``knee``, fading
    linearly to no change at ``Y' = 1``: a clipped highlight's scene value is unknown, so it is not
    moved (and the mapping stays monotonic)."""
    y = torch.linspace(0, 1, size)
    weight = ((1 - y) / (1 - knee)).clamp(max=1)
    return torch.exp2(stops * weight / BT1886_GAMMA)[None]


def exposure_gain(table: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The gain of :func:`exposure_gain_table` ``table`` at each pixel of luma ``y`` ``(N, 1, H, W)``
    in [0, 1] (the luma of the model's R'G'B' input)."""
    return lookup(table.expand(y.shape[0], -1), y)


def apply_exposure(x: torch.Tensor, table: torch.Tensor) -> torch.Tensor:
    """``(N, 3, H, W)`` R'G'B' times :func:`exposure_gain` at each pixel's luma, within [0, 1] (a
    per-pixel scalar keeps the hue)."""
    return (x * exposure_gain(table, luma_BT709(x))).clamp_(max=1)


@dataclass
class ExposureState:
    """What :func:`track_exposure` carries from one frame to the next."""

    luma: torch.Tensor
    """Thumbnail luma ``(1, 1, h, w)`` before any compensation."""
    stops: float
    """Exposure compensation applied, in stops of linear light."""
    settling: bool
    """After a cut or a dark frame, until the exposure stops changing: no compensation."""


def track_exposure(state: ExposureState | None, luma: torch.Tensor, cut: bool
                   ) -> tuple[ExposureState, bool]:
    """One frame of the policy of the module docstring, from the frame's thumbnail luma ``luma``
    ``(1, 1, h, w)`` and whether a cut was detected before it. Returns the new state (its ``stops``:
    the compensation to apply to this frame) and whether the frame is part of a fade, which the
    caller's smoothing must follow frame by frame (the average of its past frames would lag)."""
    change = None if cut or state is None else exposure_change(state.luma, luma)
    if change is None:  # a new shot, or frames that disagree on an exposure change
        stops, settling = 0.0, True
    elif luma.mean().item() < EXPOSURE_BAND[0] or (state.settling and abs(change) > EXPOSURE_SETTLED):
        # halved, not dropped: a fade to black ends without a jump
        stops, settling = state.stops / 2, True
    else:
        stops, settling = stabilise_exposure(state.stops, change), False
    return ExposureState(luma, stops, settling), settling and change is not None
