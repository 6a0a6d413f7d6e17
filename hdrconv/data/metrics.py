"""Quality metrics of HDR10 output against the ground truth.

Every function takes *linear* BT.2020 RGB in absolute cd/m2, ``(3, H, W)`` or ``(T, 3, H, W)`` (the
output domain of every model, :mod:`hdrconv.models.base`), and returns a float averaged over frames.

- :func:`psnr_pq`: PSNR on PQ-coded BT.2020 R'G'B' in [0, 1], the HDRTVNet / HDRTV1K convention
  (Chen et al. 2021, "A New Journey from SDRTV to HDRTV") used by the ITM papers.
- :func:`ssim_pq`: SSIM (Wang et al. 2004, Eq. 13; 11x11 Gaussian window, sigma 1.5, K1 0.01,
  K2 0.03) on the same PQ signal, mean over channels.
- :func:`delta_E_ITP`: Recommendation ITU-R BT.2124 colour difference, colour-science's
  ``delta_E_ITP`` on ICtCp (BT.2100 PQ) of absolute light; 1 is about one just-noticeable difference.
- :func:`colourfulness` (mean ICtCp chroma) and :func:`log_contrast` (spread of log2 luminance): no
  reference needed, for checks on real SDR that has no HDR ground truth.
- :func:`psnr_mu`: PSNR after the mu-law tone curve, mu = 5000, on HDR normalised to [0, 1] by the
  mastering peak (the alternating-exposure paper, Chen et al. 2021, §3.2 Eq. 1).
- :func:`flicker`: temporal instability of the frame's 99th-percentile luminance, output minus
  reference (see its docstring).
- :func:`warping_error`: mean |frame t+1 - frame t warped by the known motion| on the PQ signal over
  the pixels the motion says are visible in both frames, output minus reference.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from hdrconv.color._colour import colour
from hdrconv.color.conventions import BT2020_WEIGHTS
from hdrconv.color.transfer import eotf_inverse_ST2084
from hdrconv.data.grading import MASTERING_PEAK_NITS, luminance

MU = 5000.0
"""Compression of the mu-law tone curve of :func:`psnr_mu`."""

_SSIM_WINDOW, _SSIM_SIGMA, _SSIM_K1, _SSIM_K2 = 11, 1.5, 0.01, 0.03


def _frames(x: torch.Tensor) -> torch.Tensor:
    return (x if x.dim() == 4 else x.unsqueeze(0)).double()


def psnr(a: torch.Tensor, b: torch.Tensor, peak: float = 1.0) -> float:
    """PSNR in dB of ``a`` against ``b``, per frame, averaged over frames; infinite when equal."""
    mse = ((_frames(a) - _frames(b)) ** 2).flatten(1).mean(1)
    return float(torch.mean(10 * torch.log10(peak**2 / mse)))


def psnr_pq(output: torch.Tensor, reference: torch.Tensor) -> float:
    """PSNR on PQ-coded BT.2020 R'G'B' in [0, 1]."""
    return psnr(eotf_inverse_ST2084(_frames(output)), eotf_inverse_ST2084(_frames(reference)))


def ssim(a: torch.Tensor, b: torch.Tensor, data_range: float = 1.0) -> float:
    """SSIM (Wang et al. 2004) of two ``(..., 3, H, W)`` signals: Gaussian-window local statistics,
    valid region only, mean over pixels, channels and frames."""
    a, b = _frames(a), _frames(b)
    if min(a.shape[-2:]) < _SSIM_WINDOW:
        raise ValueError(f"SSIM needs images of at least {_SSIM_WINDOW}x{_SSIM_WINDOW}, got {tuple(a.shape[-2:])}")
    x = torch.arange(_SSIM_WINDOW, dtype=torch.float64) - _SSIM_WINDOW // 2
    g = torch.exp(-(x**2) / (2 * _SSIM_SIGMA**2))
    g = (g / g.sum()).tolist()
    n = _SSIM_WINDOW - 1

    def blur(t):
        # separable window as sums of shifted views, in float64: 22 taps per pixel instead of 121, and
        # exact enough that a constant image has zero variance (float32 convolution is not)
        t = sum(w * t[..., i:t.shape[-1] - n + i] for i, w in enumerate(g))
        return sum(w * t[..., i:t.shape[-2] - n + i, :] for i, w in enumerate(g))

    c1, c2 = (_SSIM_K1 * data_range) ** 2, (_SSIM_K2 * data_range) ** 2
    mu_a, mu_b = blur(a), blur(b)
    var_a = blur(a * a) - mu_a**2
    var_b = blur(b * b) - mu_b**2
    cov = blur(a * b) - mu_a * mu_b
    s = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2))
    return float(s.mean())


def ssim_pq(output: torch.Tensor, reference: torch.Tensor) -> float:
    """SSIM on PQ-coded BT.2020 R'G'B' in [0, 1]."""
    return ssim(eotf_inverse_ST2084(_frames(output)), eotf_inverse_ST2084(_frames(reference)))


def delta_E_ITP(output: torch.Tensor, reference: torch.Tensor) -> float:
    """Mean ITU-R BT.2124 Delta E_ITP between two absolute BT.2020 images (colour-science)."""
    return float(np.mean(colour.difference.delta_E_ITP(_ictcp(output), _ictcp(reference))))


def _ictcp(x: torch.Tensor) -> np.ndarray:
    rgb = _frames(x).clamp(min=0).permute(0, 2, 3, 1).cpu().numpy()
    return colour.RGB_to_ICtCp(rgb, method="ITU-R BT.2100-2 PQ")


def colourfulness(x: torch.Tensor) -> float:
    """Mean ICtCp chroma ``sqrt(Ct^2 + Cp^2)`` (BT.2100 PQ, colour-science) of absolute BT.2020 light:
    how colourful a picture is on an HDR display (it grows with saturation and with brightness)."""
    ictcp = _ictcp(x)
    return float(np.hypot(ictcp[..., 1], ictcp[..., 2]).mean())


LOG_CONTRAST_FLOOR_NITS = 0.01
"""Added to luminance before the log of :func:`log_spread` (against log 0, and so that noise in the
blacks does not count as contrast)."""


def log_spread(x: torch.Tensor) -> torch.Tensor:
    """Standard deviation of log2 BT.2020 luminance (cd/m2, plus :data:`LOG_CONTRAST_FLOOR_NITS`) of
    each frame of ``(N, 3, H, W)`` as ``(N,)``: the spread of a picture's light levels in stops."""
    Y = luminance(x, BT2020_WEIGHTS)
    return torch.log2(Y + LOG_CONTRAST_FLOOR_NITS).flatten(1).std(dim=1, unbiased=False)


def log_contrast(x: torch.Tensor) -> float:
    """:func:`log_spread` of all frames of ``x`` together (side by side), in double precision."""
    return float(log_spread(torch.cat(tuple(_frames(x)), dim=-1)[None]))


def mu_law(H: torch.Tensor, mu: float = MU) -> torch.Tensor:
    """mu-law tone curve log(1 + mu H) / log(1 + mu) of HDR in [0, 1] (alternating-exposure paper,
    Eq. 1)."""
    return torch.log1p(mu * H) / math.log1p(mu)


def mu_law_inverse(T: torch.Tensor, mu: float = MU) -> torch.Tensor:
    """The inverse of :func:`mu_law`: ``((1 + mu) ** T - 1) / mu``."""
    return torch.expm1(T * math.log1p(mu)) / mu


def psnr_mu(output: torch.Tensor, reference: torch.Tensor, peak: float = MASTERING_PEAK_NITS,
            mu: float = MU) -> float:
    """PSNR after :func:`mu_law` of HDR normalised to [0, 1] by ``peak`` cd/m2 (clipped)."""

    def tm(x):
        return mu_law((_frames(x) / peak).clamp(0, 1), mu)

    return psnr(tm(output), tm(reference))


def p99_luminance(frames: torch.Tensor) -> torch.Tensor:
    """99th percentile of each frame's BT.2020 luminance in cd/m2, ``(T,)``."""
    Y = luminance(_frames(frames), BT2020_WEIGHTS).flatten(1)
    return torch.quantile(Y, 0.99, dim=1)


def temporal_instability(frames: torch.Tensor) -> float:
    """Mean over consecutive frames of |Delta P99 luminance|, divided by the mean P99 luminance."""
    p = p99_luminance(frames)
    if p.numel() < 2:
        raise ValueError("temporal metrics need at least 2 frames")
    return float(torch.diff(p).abs().mean() / p.mean().clamp(min=1e-12))


def flicker(output: torch.Tensor, reference: torch.Tensor | None = None) -> float:
    """Flicker: :func:`temporal_instability` of the output minus that of the reference (0 when the
    output's brightness moves exactly as much as the ground truth's, positive when it fluctuates
    more); without a reference, the output's own instability."""
    f = temporal_instability(output)
    return f - temporal_instability(reference) if reference is not None else f


def warp_backward(frames: torch.Tensor, coords: torch.Tensor) -> torch.Tensor:
    """Resample ``frames`` ``(T, C, H, W)`` at ``coords`` ``(T, H', W', 2)`` (x, y pixel coordinates
    into ``frames``, pixel centres at integers), bilinear; outside samples are 0."""
    H, W = frames.shape[-2:]
    grid = torch.stack([2 * coords[..., 0] / (W - 1) - 1, 2 * coords[..., 1] / (H - 1) - 1], dim=-1)
    return F.grid_sample(frames, grid.to(frames.dtype), mode="bilinear", padding_mode="zeros",
                         align_corners=True)


def warping_error(frames: torch.Tensor, coords: torch.Tensor, valid: torch.Tensor,
                  reference: torch.Tensor | None = None) -> float:
    """Warping error on the PQ signal with known motion.

    ``coords[t]`` ``(H, W, 2)`` gives, for every pixel of frame t + 1, where that point of the scene
    is in frame t; ``valid[t]`` ``(H, W)`` is True where it is visible in both. The error is the mean
    over t of the mean |PQ(frame t+1) - PQ(frame t) warped| over the valid pixels and the channels.
    With a ``reference`` clip, the reference's own error is subtracted (output minus reference, as
    for :func:`flicker`): bilinear resampling of real detail leaves the ground truth itself a small
    error, which is not the model's.
    """
    pq = eotf_inverse_ST2084(_frames(frames))
    warped = warp_backward(pq[:-1], coords.double())
    err = (pq[1:] - warped).abs().mean(1)
    v = valid.to(err.dtype)
    e = float(((err * v).flatten(1).sum(1) / v.flatten(1).sum(1).clamp(min=1)).mean())
    return e - warping_error(reference, coords, valid) if reference is not None else e
