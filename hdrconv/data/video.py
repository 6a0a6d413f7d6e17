"""Video synthesis from one HDR image, with the motion known exactly.

**Camera trajectories** (Deep Video ITM with temporal clues, supplementary §3: "we apply a random
perspective transformation on HDR images to simulate camera motion"): a ``h x w`` crop window moves
over the image along a smooth random path of translation, rotation, zoom and perspective drift; frame
t samples the image through the homography ``H_t`` (crop pixel -> image pixel), bilinear. An optional
foreground patch (a rectangle cut from elsewhere in the image) slides across with its own velocity and
occludes the background. Because every frame is rendered from the same image, the motion between
frames is known: :class:`Clip` carries, for every pixel of frame t + 1, where that scene point is in
frame t (``coords``) and whether it is visible there (``valid``), as
:func:`hdrconv.data.metrics.warping_error` wants.

**Simulated auto-exposure** (supplementary §2, Eq. 1-3, :func:`auto_exposure`): per frame, the
exposure T that puts L_frame = alpha L_roi + (1 - alpha) L_avg (alpha = 0.7) of I = f(clip(H T)),
f(x) = x ** (1 / 2.2), into [0.395, 0.405], found by bisection; then smoothed over time,
T_i <- beta T_i + (1 - beta) T_{i-1} with beta = 0.8. The supplementary defines the region of interest
only by a figure that the text does not carry; here it is the centre of the frame, the middle half of
its width and height (where a camera's centre-weighted metering looks).

**Alternating exposures** (Chen et al. 2021, "HDR Video Reconstruction: A Coarse-to-fine Network and
A Real-world Benchmark Dataset", §3.1 and §5.1, :func:`alternating_exposure`): frame i is exposed at
EV -s, +s (two exposures) or -s, 0, +s (three), s in {1, 2, 3}, with zero-mean Gaussian noise
(sigma = 1e-3) and optionally a sensor's shot noise added in the linear domain, through a CRF of gamma
2.2 (or another camera response), clipped and quantised to 8 bits. The paper's test sequences (§5.2) are rendered with the known CRF,
which is what ``hdrconv alt-exp --crf`` undoes; its "possibly inaccurate CRF" is a training augmentation
of the reference frame alone (§5.1), which :mod:`hdrconv.train.samplers` leaves out (it says why).

Scene light in and out of this module is ``(T, 3, H, W)`` torch float32, BT.709 primaries.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from hdrconv.data.metrics import warp_backward
from hdrconv.data.grading import luminance
from hdrconv.data.synthesis import quantise_8bit

AUTO_EXPOSURE_ALPHA = 0.7
AUTO_EXPOSURE_BAND = (0.395, 0.405)
AUTO_EXPOSURE_BETA = 0.8
CAMERA_GAMMA = 2.2

ALT_EXPOSURE_STOPS = (1, 2, 3)
ALT_EXPOSURE_NOISE_SIGMA = 1e-3

# Motion limits per frame, chosen for clips of a few to a few dozen frames at 1/4 to 1/2 of the
# image size: a walking hand-held camera, not a whip pan.
_MAX_SPEED_FRACTION = 0.02  # translation, fraction of the crop size
_MAX_ROTATION = np.deg2rad(0.5)
_MAX_ZOOM = 0.01
_MAX_PERSPECTIVE = 2e-5  # per pixel: a few percent of keystone over a 256-pixel crop per 10 frames
_FOREGROUND_EDGE_MARGIN = 1.0


@dataclass
class Clip:
    """A rendered clip and its exact motion."""

    frames: torch.Tensor
    """``(T, 3, h, w)`` scene light, the units of the source image."""
    coords: torch.Tensor
    """``(T - 1, h, w, 2)``: for each pixel of frame t + 1, its x, y in frame t."""
    valid: torch.Tensor
    """``(T - 1, h, w)`` bool: that scene point is visible in both frames."""
    homographies: np.ndarray
    """``(T, 3, 3)``: background crop pixel -> source image pixel."""


def _apply(Hm: np.ndarray, xy: np.ndarray) -> np.ndarray:
    p = xy @ Hm[:2, :2].T + Hm[:2, 2]
    w = xy @ Hm[2, :2] + Hm[2, 2]
    return p / w[..., None]


def random_trajectory(rng: np.random.Generator, image_size: tuple[int, int], crop_size: tuple[int, int],
                      frames: int, motion: float = 1.0) -> np.ndarray:
    """Homographies ``(frames, 3, 3)`` (crop pixel -> image pixel) of a smooth random camera path that
    keeps the crop inside the image. ``motion`` scales every motion limit."""
    H, W = image_size
    h, w = crop_size
    if h > H or w > W:
        raise ValueError(f"crop {h}x{w} larger than the image {H}x{W}")
    centre = np.array([(w - 1) / 2, (h - 1) / 2])
    corners = np.array([[0, 0], [w - 1, 0], [0, h - 1], [w - 1, h - 1]], dtype=np.float64) - centre
    for _ in range(20):
        velocity = rng.uniform(-1, 1, 2) * _MAX_SPEED_FRACTION * np.array([w, h]) * motion
        omega = rng.uniform(-1, 1) * _MAX_ROTATION * motion
        theta0 = rng.uniform(-1, 1) * 4 * _MAX_ROTATION
        zoom = rng.uniform(-1, 1) * _MAX_ZOOM * motion
        dpersp = rng.uniform(-1, 1, 2) * _MAX_PERSPECTIVE * motion
        scale0 = rng.uniform(1.0, max(1.0, min(H / h, W / w) * 0.8))
        A = []
        for t in range(frames):
            c, s = np.cos(theta0 + omega * t), np.sin(theta0 + omega * t)
            R = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])
            S = np.diag([scale0 * (1 + zoom) ** t, scale0 * (1 + zoom) ** t, 1])
            P = np.eye(3)
            P[2, :2] = dpersp * t
            T = np.eye(3)
            T[:2, 2] = velocity * t
            A.append(T @ R @ S @ P)
        pts = np.concatenate([_apply(a, corners) for a in A])
        lo, hi = pts.min(0), pts.max(0)
        room = np.array([W - 1, H - 1]) - (hi - lo)
        if np.all(room >= 0):
            start = rng.uniform(0, 1, 2) * room - lo
            Tc = np.eye(3)
            Tc[:2, 2] = -centre
            Ts = np.eye(3)
            Ts[:2, 2] = start
            return np.stack([Ts @ a @ Tc for a in A])
        motion *= 0.5
    raise ValueError(f"no camera path keeps a {h}x{w} crop inside a {H}x{W} image")


def _pixel_grid(h: int, w: int) -> np.ndarray:
    ys, xs = np.meshgrid(np.arange(h, dtype=np.float64), np.arange(w, dtype=np.float64), indexing="ij")
    return np.stack([xs, ys], -1)


def _inside(xy: np.ndarray, lo: np.ndarray, hi: np.ndarray, margin: float = 0.0) -> np.ndarray:
    return np.all((xy >= lo - margin) & (xy <= hi + margin), axis=-1)


def render_clip(image: torch.Tensor, rng: np.random.Generator, frames: int, crop_size: tuple[int, int],
                foreground: bool = True, motion: float = 1.0) -> Clip:
    """Render a clip of ``frames`` ``crop_size`` frames from ``image`` ``(3, H, W)`` along a
    :func:`random_trajectory`, with (optionally) a moving foreground patch, and its exact motion."""
    H, W = image.shape[-2:]
    h, w = crop_size
    homs = random_trajectory(rng, (H, W), (h, w), frames, motion)
    grid = _pixel_grid(h, w)
    src_xy = np.stack([_apply(m, grid) for m in homs])  # (T, h, w, 2)

    fg_lo = None
    if foreground:
        ph, pw = int(rng.integers(h // 5, h // 2 + 1)), int(rng.integers(w // 5, w // 2 + 1))
        origin = rng.uniform(0, 1, 2) * np.array([W - pw, H - ph])
        start = rng.uniform(0, 1, 2) * np.array([w - pw, h - ph])
        speed = rng.uniform(-1, 1, 2) * 3 * _MAX_SPEED_FRACTION * np.array([w, h]) * motion
        fg_lo = start + speed * np.arange(frames)[:, None]  # (T, 2) top-left of the patch in the crop
        fg_size = np.array([pw - 1, ph - 1], dtype=np.float64)
        fg_mask = np.stack([_inside(grid, fg_lo[t], fg_lo[t] + fg_size) for t in range(frames)])
        src_xy = np.where(fg_mask[..., None], grid[None] - fg_lo[:, None, None] + origin, src_xy)

    coords_src = torch.from_numpy(src_xy)
    rendered = warp_backward(image.double().expand(frames, *image.shape), coords_src).to(image.dtype)

    coords, valid = [], []
    for t in range(frames - 1):
        inv = np.linalg.inv(homs[t])
        bg = _apply(inv @ homs[t + 1], grid)
        frame_hi = np.array([w - 1, h - 1])
        ok = _inside(bg, np.zeros(2), frame_hi)
        xy = bg
        if fg_lo is not None:
            # bilinear sampling of frame t mixes the layers within a pixel of the patch edge: a
            # background point must be clear of the patch, a patch point inside it, by that margin
            rect = (fg_lo[t], fg_lo[t] + fg_size)
            fg = grid - fg_lo[t + 1] + fg_lo[t]
            ok_fg = _inside(fg, np.zeros(2), frame_hi) & _inside(fg, *rect, -_FOREGROUND_EDGE_MARGIN)
            ok_bg = ok & ~_inside(bg, *rect, _FOREGROUND_EDGE_MARGIN)
            xy = np.where(fg_mask[t + 1][..., None], fg, bg)
            ok = np.where(fg_mask[t + 1], ok_fg, ok_bg)
        coords.append(xy)
        valid.append(ok)
    return Clip(frames=rendered, coords=torch.from_numpy(np.stack(coords)).float(),
                valid=torch.from_numpy(np.stack(valid)), homographies=homs)


def _camera(H: torch.Tensor, T: torch.Tensor | float, gamma: float = CAMERA_GAMMA) -> torch.Tensor:
    """Supplementary Eq. 2: I = f(clip(H T)), f(x) = x ** (1 / gamma)."""
    return torch.clamp(H * T, 0, 1) ** (1 / gamma)


def _roi(h: int, w: int) -> tuple[slice, slice]:
    return slice(h // 4, h - h // 4), slice(w // 4, w - w // 4)


def frame_luminance(I: torch.Tensor, alpha: float = AUTO_EXPOSURE_ALPHA) -> float:
    """Supplementary Eq. 1: L_frame = alpha L_roi + (1 - alpha) L_avg of one LDR frame ``(3, h, w)``,
    L being the BT.709-weighted mean of the camera signal."""
    L = luminance(I)
    rows, cols = _roi(*L.shape)
    return float(alpha * L[rows, cols].mean() + (1 - alpha) * L.mean())


def search_exposure(H: torch.Tensor, band: tuple[float, float] = AUTO_EXPOSURE_BAND,
                    alpha: float = AUTO_EXPOSURE_ALPHA) -> float:
    """The exposure T that puts :func:`frame_luminance` of I = f(clip(H T)) into ``band``, by
    bisection on log T (L_frame does not decrease with T)."""
    lo, hi = -40.0, 40.0  # log2 T: any scene light a float32 image can hold
    target = (band[0] + band[1]) / 2
    log_t = 0.0
    for _ in range(100):
        log_t = (lo + hi) / 2
        L = frame_luminance(_camera(H, 2.0**log_t), alpha)
        if band[0] <= L <= band[1]:
            break
        lo, hi = (log_t, hi) if L < target else (lo, log_t)
    return 2.0**log_t


def auto_exposure_times(frames: torch.Tensor, beta: float = AUTO_EXPOSURE_BETA,
                        band: tuple[float, float] = AUTO_EXPOSURE_BAND,
                        alpha: float = AUTO_EXPOSURE_ALPHA) -> np.ndarray:
    """Supplementary Eq. 1-3: the smoothed exposures ``(T,)`` the simulated camera picks for
    scene-linear ``frames`` ``(T, 3, h, w)``."""
    raw = [search_exposure(f, band, alpha) for f in frames]
    smooth = [raw[0]]
    for t in raw[1:]:
        smooth.append(beta * t + (1 - beta) * smooth[-1])
    return np.array(smooth)


def auto_exposure(frames: torch.Tensor, beta: float = AUTO_EXPOSURE_BETA,
                  band: tuple[float, float] = AUTO_EXPOSURE_BAND,
                  alpha: float = AUTO_EXPOSURE_ALPHA) -> tuple[torch.Tensor, np.ndarray]:
    """Supplementary Eq. 1-3: the auto-exposed 8-bit LDR clip of scene-linear ``frames``
    ``(T, 3, h, w)`` and the smoothed exposures ``(T,)`` (:func:`auto_exposure_times`)."""
    T = auto_exposure_times(frames, beta, band, alpha)
    return camera_exposure(frames, T), T


def camera_exposure(frames: torch.Tensor, times: np.ndarray) -> torch.Tensor:
    """The simulated camera (supplementary Eq. 2, 8-bit) of scene-linear ``frames`` ``(T, 3, h, w)``
    shot with exposure ``times`` ``(T,)``."""
    return quantise_8bit(_camera(frames, torch.from_numpy(np.asarray(times)).to(frames.dtype).view(-1, 1, 1, 1)))


def exposure_values(frames: int, exposures: int, stops: int) -> np.ndarray:
    """EV of each frame: -s, +s, -s, ... (2 exposures) or -s, 0, +s, -s, ... (3 exposures)."""
    if exposures not in (2, 3):
        raise ValueError(f"2 or 3 alternating exposures, got {exposures}")
    cycle = [-stops, stops] if exposures == 2 else [-stops, 0, stops]
    return np.array([cycle[i % exposures] for i in range(frames)], dtype=np.float64)


@dataclass
class AlternatingExposure:
    """An alternating-exposure LDR clip and how it was taken."""

    ldr: torch.Tensor
    """``(T, 3, h, w)`` 8-bit camera signal in [0, 1]."""
    ev: np.ndarray
    """``(T,)`` exposure value of each frame; the exposure time is ``2 ** ev`` (EV 0: relative light
    1.0, the reference white, just clips)."""


def alternating_exposure(relative: torch.Tensor, rng: np.random.Generator, exposures: int = 2,
                         stops: int | None = None, noise_sigma: float = ALT_EXPOSURE_NOISE_SIGMA,
                         crf: Callable[[torch.Tensor], torch.Tensor] | None = None,
                         full_well: float | None = None) -> AlternatingExposure:
    """Render relative scene light ``(T, 3, h, w)`` (:func:`hdrconv.data.grading.expose`) as an
    alternating-exposure LDR clip (coarse-to-fine paper §3.1, §5.1) through the camera response ``crf``
    (linear light in [0, 1] -> signal; gamma 2.2 when not given). ``stops`` (s) is drawn when not
    given. ``full_well``: the photons (electrons) a pixel holds at its clipping level, whose Poisson
    shot noise (variance ``L / full_well`` at exposure ``L``) joins the signal-independent
    ``noise_sigma``; none where not given."""
    s = int(rng.choice(ALT_EXPOSURE_STOPS)) if stops is None else stops
    ev = exposure_values(relative.shape[0], exposures, s)
    t = torch.from_numpy(2.0**ev).to(relative.dtype).view(-1, 1, 1, 1)
    linear = relative * t
    if noise_sigma > 0 or full_well is not None:
        g = torch.Generator().manual_seed(int(rng.integers(2**62)))
        sigma = noise_sigma if full_well is None else (noise_sigma**2 + linear.clamp(0, 1) / full_well).sqrt()
        linear = linear + sigma * torch.randn(linear.shape, generator=g, dtype=linear.dtype)
    signal = _camera(linear, 1.0) if crf is None else crf(linear.clamp(0, 1))
    return AlternatingExposure(ldr=quantise_8bit(signal), ev=ev)

