"""Aligning differently exposed frames to a reference frame (OpenCV), for ``alt-exp`` models.

Frames arrive re-encoded with :data:`~hdrconv.color.conventions.ALT_EXP_GAMMA` and their exposures in
stops. Two exposures only look alike once brought to one exposure: :func:`match_exposure` raises the
darker frame to the brighter one's exposure and clips it as the brighter frame clips (Kang et al.
2003; Kalantari & Ramamoorthi 2019).

- :func:`similarity` is the global pre-alignment of Chen et al. 2021, §3.1 (a similarity transform
  compensating camera motion), estimated from ORB features with RANSAC
  (``cv2.estimateAffinePartial2D``) at a reduced resolution (:data:`GLOBAL_SIZE`);
- :func:`flow` is the dense remainder, OpenCV's DIS optical flow;
- :func:`warp` resamples a frame once, through both.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch

from hdrconv.color.conventions import ALT_EXP_GAMMA
from hdrconv.color.kernels import power

GLOBAL_SIZE = 512
"""Longest side of the frames the similarity is estimated on."""
MIN_INLIERS = 12
"""Feature matches a similarity needs; with fewer (small or flat frames) the frames stay as they are."""


def match_exposure(frame: torch.Tensor, stops: float, target: float) -> torch.Tensor:
    """A gamma-2.2 frame (or its grey, any shape) exposed at ``stops`` as it would look at ``target``
    stops (clipped at 1)."""
    if stops == target:
        return frame
    linear = power(frame.clamp(0, 1), ALT_EXP_GAMMA).mul_(2.0 ** (target - stops)).clamp_(0, 1)
    return power(linear, 1 / ALT_EXP_GAMMA, out=linear)


def grey8(frame: torch.Tensor, stops: float, target: float) -> np.ndarray:
    """``(3, H, W)`` gamma-2.2 frame exposed at ``stops`` -> the ``(H, W)`` uint8 mean of its channels
    as it would look at ``target`` stops, for OpenCV."""
    grey = match_exposure(frame.float(), stops, target).mean(0)
    return (grey * 255).round_().clamp_(0, 255).to(torch.uint8).cpu().numpy()


def similarity(reference: np.ndarray, moving: np.ndarray) -> np.ndarray:
    """``2 x 3`` similarity taking reference pixel coordinates to ``moving``'s, from two exposure-matched
    grey frames (:func:`grey8`); the identity where too few features match."""
    identity = np.eye(2, 3)
    h, w = reference.shape
    f = min(1.0, GLOBAL_SIZE / max(h, w))
    if f < 1:
        size = (max(1, round(w * f)), max(1, round(h * f)))
        reference, moving = (cv2.resize(x, size, interpolation=cv2.INTER_AREA) for x in (reference, moving))
    orb = cv2.ORB_create(nfeatures=500)
    k1, d1 = orb.detectAndCompute(reference, None)
    k2, d2 = orb.detectAndCompute(moving, None)
    if d1 is None or d2 is None or len(k1) < MIN_INLIERS or len(k2) < MIN_INLIERS:
        return identity
    matches = cv2.BFMatcher(cv2.NORM_HAMMING, crossCheck=True).match(d1, d2)
    if len(matches) < MIN_INLIERS:
        return identity
    src = np.float32([k1[m.queryIdx].pt for m in matches])
    dst = np.float32([k2[m.trainIdx].pt for m in matches])
    m, inliers = cv2.estimateAffinePartial2D(src, dst, method=cv2.RANSAC, ransacReprojThreshold=2.0)
    if m is None or int(inliers.sum()) < MIN_INLIERS:
        return identity
    m[:, 2] /= f  # translation back to full-resolution pixels; rotation and scale do not change
    return m


def flow(reference: np.ndarray, moving: np.ndarray) -> np.ndarray:
    """``(H, W, 2)`` DIS flow: ``reference[y, x]`` is seen at ``moving[y + v, x + u]``."""
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_FAST)
    return dis.calc(reference, moving, None)


def sample_map(m: np.ndarray, dense: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each reference pixel samples the moving frame: ``m`` applied to the pixel moved by
    ``dense`` (the flow measured after ``m``)."""
    h, w = dense.shape[:2]
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    x, y = x + dense[..., 0], y + dense[..., 1]
    return ((m[0, 0] * x + m[0, 1] * y + m[0, 2]).astype(np.float32),
            (m[1, 0] * x + m[1, 1] * y + m[1, 2]).astype(np.float32))


def warp(frame: torch.Tensor, maps: tuple[np.ndarray, np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    """``frame`` ``(3, H, W)`` resampled at ``maps`` (bilinear); and ``(H, W)`` True where the samples
    fall inside it (within a pixel)."""
    image = np.ascontiguousarray(frame.float().permute(1, 2, 0).cpu().numpy())
    out = cv2.remap(image, maps[0], maps[1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    h, w = image.shape[:2]
    # a pixel of slack, filled by the replicated border: flows at the frame's edge point a hair outside
    # (the last row of the static test clips), which must not count as unseen
    inside = (maps[0] >= -1) & (maps[0] <= w) & (maps[1] >= -1) & (maps[1] <= h)
    return (torch.from_numpy(out).permute(2, 0, 1).to(frame.device),
            torch.from_numpy(inside).to(frame.device))


def align(reference: torch.Tensor, reference_stops: float, moving: torch.Tensor, moving_stops: float
          ) -> tuple[torch.Tensor, torch.Tensor]:
    """``moving`` aligned to ``reference`` (global similarity, then DIS flow, both measured on the two
    frames brought to the brighter one's exposure), and where it is defined."""
    common = max(reference_stops, moving_stops)
    ref = grey8(reference, reference_stops, common)
    mov = grey8(moving, moving_stops, common)
    m = similarity(ref, mov)
    h, w = ref.shape
    # the moving frame as the similarity brings it onto the reference, for the flow to measure the rest
    moved = cv2.warpAffine(mov, m, (w, h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                           borderMode=cv2.BORDER_REPLICATE)
    return warp(moving, sample_map(m, flow(ref, moved)))
