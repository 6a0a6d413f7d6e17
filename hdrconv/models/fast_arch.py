"""FastITM: a CPU-real-time learned inverse tone mapper (global mapping + guided local gain).

Why this design
---------------
A full-resolution CNN costs seconds per 1080p frame on a small CPU (IRNet-2: 23-35 s), while the
HDR10 encoder itself runs at a few frames per second. Following the observation of HDRTVNet (Chen et
al., ICCV 2021, §3: most of SDR->HDR is a *global* colour mapping, AGCM) and of HDRNet (Gharbi et al.,
SIGGRAPH 2017: predict an operator at low resolution, apply it at full resolution), every
learned computation here runs on a 1/8-resolution thumbnail, and the full-resolution work is a handful
of per-pixel operations:

1. **Thumbnail** ``x_low``: area average of the frame at 1/``downscale`` (1/8) resolution, and its
   BT.709 luma ``Y'_low``.
2. **Global branch** (sees the whole thumbnail): three strided convolutions, global mean and max
   pooling, a soft histogram of ``Y'_low`` and the fractions of full-resolution pixels near and at
   clipping (:func:`~hdrconv.models.blocks.highlight_fractions`), then an MLP predicts the frame's
   global mapping:

   - an exponent ``gamma = 2.4 exp(d)`` (the BT.1886 EOTF when ``d = 0``), one for the three
     channels (:func:`neutral_exponent`),
   - a luma gain curve ``g(Y')`` (``knots`` log-gains, piecewise linear, evaluated as a
     ``lut_size``-entry look-up table): the inverse tone curve, expanding highlights,
   - a 3x3 colour matrix ``M = 203 cd/m2 (M_709->2020 + dM)`` (gamut conversion, saturation; 203 cd/m2
     is the BT.2408 reference white) whose rows sum alike (:func:`neutral_matrix`).

   With one exponent and rows summing alike, grey in is grey out whatever the network predicts
   (the gain curve and the local gain scale the three channels together).

   Each is soft-bounded (:func:`~hdrconv.models.blocks.soft_bound`, identity near 0) to a range a
   little wider than the one the network uses on its training data (:data:`PARAMETER_BOUNDS`). Outside
   that data (a test pattern of saturated bars: per-channel exponents of 0.4, a matrix with negative
   diagonal) an unbounded MLP extrapolates into inverted colours; with the bounds, every primary keeps
   its own channel as the largest (diagonal of ``dM`` >= -0.1 and off-diagonal <= 0.4 against the
   BT.709 -> BT.2020 matrix). The bounds are a safety net: trained with procedural graphics scenes
   (``hdrconv train --graphics``), the network keeps its parameters well inside them on testsrc2, whose
   bars keep their hues (red comes out darker and slightly bluish, cyan paler); trained on photographs
   alone, every parameter sat at its bound there and magenta came out grey-green.

3. **Local branch** (receptive field ~ 1/4 of a 1080p frame height at 1/8 resolution): a small
   CNN, conditioned on the global features, predicts a gain map ``G_low`` that lets highlights and
   bright regions expand more or less than the global curve says (e.g. a small specular highlight vs.
   a large white wall, both clipped in SDR).
4. **Guided upsampling**: ``G_low`` is brought to full resolution with the fast guided filter (He & Sun
   2015, Algorithm 2) guided by the full-resolution luma, so that the gain follows the frame's edges
   instead of bleeding over them (differentiable, trained end to end as in Wu et al., CVPR 2018).
5. **Full resolution**, per pixel: ``HDR = (M @ x**gamma) * g(Y') * G``, linear BT.2020 in cd/m2.

With all predicted corrections at zero (the initialisation) the model is the BT.2408 display-referred
mapping (BT.1886 EOTF, SDR white at 203 cd/m2, BT.709 -> BT.2020), so training starts from the analytic
baseline and learns the expansion on top of it.

Video: two temporal clues are carried from frame to frame in the model state (:class:`VideoState`),
both restarted at scene cuts (:mod:`hdrconv.models.cuts`), detected from the thumbnail histogram
(:func:`~hdrconv.models.cuts.is_scene_cut`) or from co-located thumbnail pixels that disagree on how
the exposure changed (:func:`exposure_change`):

- the global parameters are smoothed by an exponential moving average (:func:`smooth_parameters`), so
  the tone mapping cannot jump from frame to frame; the local gain follows the content;
- **exposure stabilisation** (:mod:`hdrconv.models.exposure`): the camera's auto-exposure changes
  are undone before the mapping, which an expanding curve would otherwise amplify in the highlights.

Cost: the full-resolution part is one ``pow``, one look-up, one 3x3 matrix product, a bilinear
upsampling of two coefficient maps and three multiply-adds per pixel, plus one look-up and four
multiplies while an exposure is compensated.

The training forward (:meth:`FastITMNet.forward`) returns PQ-coded BT.2020 R'G'B' in [0, 1] like every
network of the project; inference uses :meth:`FastITMNet.render`, which stops at linear cd/m2.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import torch

from hdrconv.color.conventions import (BT1886_GAMMA, HDR_COLOURSPACE, PQ_PEAK_NITS,
                                       REFERENCE_WHITE_NITS, SDR_COLOURSPACE)
from hdrconv.color.gamut import apply_matrix, matrix_RGB_to_RGB
from hdrconv.color.kernels import lookup
from hdrconv.color.transfer import eotf_inverse_ST2084
from hdrconv.models.blocks import (ThumbnailNet, guided_upsample, luma_BT709, piecewise_linear, soft_bound,
                                   soft_histogram)
from hdrconv.models.cuts import is_scene_cut
from hdrconv.models.exposure import (ExposureState, apply_exposure, exposure_gain, exposure_gain_table,
                                      track_exposure)

BLACK_FLOOR = 1e-6
"""Lower bound of the input signal and, in cd/m2, of the training output: it keeps gradients finite at
black and is invisible (1e-6 cd/m2 is PQ code value 0.00012, an eighth of a 10-bit step)."""


PARAMETER_BOUNDS = {"d": (-0.5, 0.5), "curve": (-3.0, 3.0), "dm_diagonal": (-0.1, 1.0),
                    "dm_off_diagonal": (-0.2, 0.4)}
"""Soft bounds of the global parameters. Ranges the trained network produced on the 37 images x 6 tone
mappers of the evaluation recipes: ``d`` [-0.35, 0.21], ``curve`` [-0.89, 2.35], ``dM`` diagonal
[-0.04, 0.74], off-diagonal [-0.11, 0.33]."""


def neutral_exponent(d: torch.Tensor) -> torch.Tensor:
    """The three exponent log-ratios ``(N, 3)`` replaced by their mean: a grey pixel (R' = G' = B')
    stays grey only if every channel has the same exponent."""
    return d.mean(dim=1, keepdim=True).expand_as(d)


def neutral_matrix(dm: torch.Tensor) -> torch.Tensor:
    """The matrix correction ``(N, 3, 3)`` with its row sums made equal (to their mean): the rows of
    the BT.709 -> BT.2020 matrix each sum to 1, so ``M`` then maps white, and every grey, to grey.
    As trained, the shipped weights' rows summed to 0.75 / 0.99 / 1.08 on a flat white frame (chroma
    codes 520 / 498 instead of 512) and 1.28 / 1.32 / 1.42 on a grey testsrc2 clip."""
    rows = dm.sum(dim=2, keepdim=True)
    return dm - (rows - rows.mean(dim=1, keepdim=True)) / 3


class FastITMNet(ThumbnailNet):
    """The network of :mod:`hdrconv.models.fast_arch` (see the module docstring).

    Parameters
    ----------
    features
        Channels of the local branch.
    global_features
        Channels of the last global-branch convolution and width of its MLP.
    knots
        Knots of the luma gain curve.
    bins
        Bins of the thumbnail luma histogram fed to the global branch.
    downscale
        Thumbnail resolution divisor.
    lut_size
        Entries of the luma gain look-up table evaluated at full resolution.
    radius, eps
        Box radius (thumbnail pixels) and regularisation of the guided upsampling.
    highlight_levels
        Signal levels of the full-resolution highlight statistics fed to the global branch
        (:func:`~hdrconv.models.blocks.highlight_fractions`); empty for none. The top level, 0.998,
        is 8-bit code 255.
    """

    def __init__(self, features: int = 16, global_features: int = 64, knots: int = 17, bins: int = 16,
                 downscale: int = 8, lut_size: int = 1024, radius: int = 1, eps: float = 1e-4,
                 highlight_levels: tuple[float, ...] = (0.8, 0.9, 0.95, 0.98, 0.998)):
        # zero heads and local gain: the network starts as the BT.2408 display-referred mapping
        super().__init__({"gamma": 3, "curve": knots, "matrix": 9}, features, global_features, bins, downscale,
                         highlight_levels)
        self.knots, self.lut_size = knots, lut_size
        self.radius, self.eps = radius, eps
        m0 = torch.tensor(matrix_RGB_to_RGB(SDR_COLOURSPACE, HDR_COLOURSPACE), dtype=torch.float32)
        self.register_buffer("matrix_base", m0, persistent=False)

    def analyse(self, x: torch.Tensor, low: torch.Tensor | None = None, exposure: torch.Tensor | None = None
                ) -> tuple[dict[str, torch.Tensor], torch.Tensor, torch.Tensor]:
        """Everything learned, computed on the thumbnail of ``x`` ``(N, 3, H, W)`` (``low`` when the
        caller has it), after the exposure compensation ``exposure`` (:func:`exposure_gain_table`).

        Returns the global parameters (``d``: ``(N, 3)`` exponent log-ratios, ``curve``: ``(N, K)``
        log-gains, ``dm``: ``(N, 3, 3)`` matrix correction), the thumbnail ``(N, 4, h, w)`` and the
        local gain ``(N, 1, h, w)`` at thumbnail resolution.
        """
        low = self.thumbnail(x) if low is None else low
        if exposure is not None:
            rgb = apply_exposure(low[:, :3], exposure)
            low = torch.cat([rgb, luma_BT709(rgb)], dim=1)
        z = self.global_code(x, low, None if exposure is None else partial(apply_exposure, table=exposure))
        b = PARAMETER_BOUNDS
        raw = self.head_matrix(z).view(-1, 3, 3)
        eye = torch.eye(3, dtype=torch.bool, device=raw.device)
        dm = torch.where(eye, soft_bound(raw, *b["dm_diagonal"]), soft_bound(raw, *b["dm_off_diagonal"]))
        params = {"d": neutral_exponent(soft_bound(self.head_gamma(z), *b["d"])),
                  "curve": soft_bound(self.head_curve(z), *b["curve"]), "dm": neutral_matrix(dm)}
        return params, low, torch.exp(self.local_map(low, z))

    def render(self, x: torch.Tensor, params: dict[str, torch.Tensor], low: torch.Tensor,
               gain: torch.Tensor, exposure: torch.Tensor | None = None) -> torch.Tensor:
        """Apply the mapping to the full-resolution ``x`` (after the exposure compensation
        ``exposure``, as in :meth:`analyse`): linear BT.2020 RGB in cd/m2."""
        # the floor keeps d(x ** gamma)/d gamma = x ** gamma ln x finite at black
        x = x.clamp(BLACK_FLOOR, 1)
        y = luma_BT709(x)
        if exposure is not None:
            # the luma is scaled with the channels, not recomputed (the clipped channels' loss is ignored)
            k = exposure_gain(exposure, y)
            x.mul_(k).clamp_(max=1)
            y.mul_(k).clamp_(max=1)
        curve = torch.exp(piecewise_linear(params["curve"], self.lut_size))
        s = guided_upsample(low[:, 3:], gain, y, self.radius, self.eps).clamp_(min=0)
        s = s.mul_(lookup(curve, y))
        gamma = (BT1886_GAMMA * torch.exp(params["d"]))[:, :, None, None]
        m = REFERENCE_WHITE_NITS * (self.matrix_base + params["dm"])
        return apply_matrix(m, x.pow_(gamma)).mul_(s)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """BT.709 R'G'B' in [0, 1] -> PQ-coded BT.2020 R'G'B' in [0, 1] (training and evaluation)."""
        hdr = self.render(x, *self.analyse(x))
        # floored like the input: the PQ curve's slope is infinite at 0 cd/m2
        return eotf_inverse_ST2084(hdr.clamp(BLACK_FLOOR, PQ_PEAK_NITS))

    def video_frame(self, x: torch.Tensor, state: VideoState | None, beta: float
                    ) -> tuple[torch.Tensor, VideoState]:
        """One frame ``(1, 3, H, W)`` of a video given the state after the previous frame (None at
        the start): linear BT.2020 RGB in cd/m2 and the new state (see "Video" in the module
        docstring)."""
        low = self.thumbnail(x)
        hist = soft_histogram(low[:, 3:], self.bins)
        cut = state is None or is_scene_cut(hist, state.hist)
        exposure_state, fading = track_exposure(None if state is None else state.exposure, low[:, 3:], cut)
        stops = exposure_state.stops
        exposure = exposure_gain_table(stops, self.lut_size).to(x) if stops else None
        params, low, gain = self.analyse(x, low, exposure)
        params = smooth_parameters(params, None if cut or fading else state.params, beta)
        return self.render(x, params, low, gain, exposure), VideoState(params, hist, exposure_state)


@dataclass
class VideoState:
    """What :meth:`FastITMNet.video_frame` carries from one frame to the next."""

    params: dict[str, torch.Tensor]
    """Smoothed global parameters."""
    hist: torch.Tensor
    """Thumbnail luma histogram ``(1, bins)`` (scene cuts)."""
    exposure: ExposureState
    """Exposure stabilisation (:func:`~hdrconv.models.exposure.track_exposure`)."""


def smooth_parameters(params: dict[str, torch.Tensor], previous: dict[str, torch.Tensor] | None,
                      beta: float = 0.8) -> dict[str, torch.Tensor]:
    """Exponential moving average of one frame's global parameters over time.

    ``p_t = beta p_(t-1) + (1 - beta) p^_t``: the per-frame prediction ``p^_t`` of a slowly changing
    shot moves the mapping by only ``1 - beta`` of its jump, which removes frame-to-frame flicker
    (the same recursive filter smooths exposure in the video ITM paper's auto-exposure, supplementary
    Eq. 3, beta = 0.8). ``previous`` is None at the start of a shot. The smoothed quantities are the
    exponent log-ratios, the log-gain knots and the matrix correction, so averaging them averages
    gains geometrically.
    """
    if previous is None:
        return params
    return {k: beta * previous[k] + (1 - beta) * v for k, v in params.items()}
