"""Aligning differently exposed frames to a reference frame (OpenCV), for ``alt-exp`` models.

Two exposures only look alike once brought to one exposure: :func:`code_at` shows a frame's radiance
as a camera exposed at the brighter one's stops would record it, clipped where it clips (Kang et al.
2003; Kalantari & Ramamoorthi 2019), as one grey channel.

- :func:`similarity` is the global pre-alignment of Chen et al. 2021, §3.1 (a similarity transform
  compensating camera motion), estimated from ORB features with RANSAC
  (``cv2.estimateAffinePartial2D``) at a reduced resolution (:data:`GLOBAL_SIZE`);
- :func:`flow` is the dense remainder, OpenCV's DIS optical flow;
- :func:`locate` finds, through both, where each reference pixel is in the moving frame, and
  :func:`warp` resamples any planes of the moving frame there, once.
"""

from __future__ import annotations

from typing import Sequence

import cv2
import numpy as np
import torch

from hdrconv.color.conventions import ALT_EXP_GAMMA
from hdrconv.color.kernels import power

GLOBAL_SIZE = 512
"""Longest side of the frames the similarity is estimated on."""
FLOW_SIZE = 960
"""Longest side of the frames the dense flow is measured on (:func:`reduce`): half of 1080p, where DIS
took 44-54 ms per pair of frames, a quarter of 4K."""
MIN_INLIERS = 12
"""Feature matches a similarity needs; with fewer (small or flat frames) the frames stay as they are."""


def radiance(V: torch.Tensor, stops: float) -> torch.Tensor:
    """Gamma-2.2 signal of a frame exposed at ``stops`` -> radiance in units of the EV 0 clipping level."""
    # the one frame-sized copy, raised in place: under cProfile each clamped 1080p copy in the merge took
    # 11 ms, against 3.6 ms in a loop that gets the same buffer back each time
    clipped = V.clamp(0, 1)
    return power(clipped, ALT_EXP_GAMMA, out=clipped).mul_(2.0 ** -stops)


def code_at(radiance: torch.Tensor, stops: float | torch.Tensor) -> torch.Tensor:
    """``(..., H, W)``: ``radiance`` ``(..., 3, H, W)`` (units of the EV 0 clipping level) as seen at
    ``stops`` (a number, or a tensor broadcasting against ``radiance``), each channel clipped at 1, their
    mean in :data:`~hdrconv.color.conventions.ALT_EXP_GAMMA` code values. The power after the mean: one
    channel raised instead of three. The clip before it: a
    channel that clips in one frame must clip in the other (clipped after the mean, a neighbour of a
    reference clipped in one channel looked brighter than it, and the bright frames of the 2-exposure
    test clip lost their merge: 20.8 against 36.9 dB PSNR-PQ)."""
    if isinstance(stops, torch.Tensor) or radiance.requires_grad:
        mean = (radiance * 2.0**stops).clamp_(0, 1).mean(-3)
    else:
        # channel by channel into one plane, clipped at the clipping level and scaled after: no
        # frame-sized copy of the scaled radiance (10.2 -> 5.4 ms on a 1080p frame)
        top = 2.0**-stops
        channels = radiance.unbind(-3)
        mean, scratch = channels[0].clamp(0, top), None
        for c in channels[1:]:
            scratch = torch.clamp(c, 0, top, out=scratch)
            mean.add_(scratch)
        mean.mul_(2.0**stops / len(channels))
    return power(mean, 1 / ALT_EXP_GAMMA, out=mean)


def reduce(frame: torch.Tensor) -> torch.Tensor:
    """``frame`` ``(C, H, W)`` area-averaged to at most :data:`FLOW_SIZE` on its longest side, for
    :func:`locate` (itself where it is that small). OpenCV's, plane by plane: torch's area
    interpolation took 18 ms per 1080p RGB frame."""
    H, W = frame.shape[-2:]
    f = FLOW_SIZE / max(H, W)
    if f >= 1:
        return frame
    size = (max(1, round(W * f)), max(1, round(H * f)))
    planes = frame.float().cpu().numpy()
    return torch.from_numpy(np.stack([cv2.resize(p, size, interpolation=cv2.INTER_AREA) for p in planes])
                            ).to(frame.device)


def grey8(code: torch.Tensor) -> np.ndarray:
    """``(H, W)`` code values in [0, 1] -> uint8, for OpenCV."""
    return (code * 255).round_().clamp_(0, 255).to(torch.uint8).cpu().numpy()


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
    # the pixel grid added as a row and a column, in place, and the similarity by OpenCV's weighted
    # sums: np.mgrid's two full grids and numpy's arithmetic were 22 ms of each 1080p call
    x, y = cv2.split(dense)
    x += np.arange(w, dtype=np.float32)
    y += np.arange(h, dtype=np.float32)[:, None]
    if np.array_equal(m, np.eye(2, 3)):
        return x, y
    return (cv2.addWeighted(x, m[0, 0], y, m[0, 1], m[0, 2]), cv2.addWeighted(x, m[1, 0], y, m[1, 1], m[1, 2]))


def locate(reference: torch.Tensor, moving: torch.Tensor, size: tuple[int, int]
           ) -> tuple[tuple[np.ndarray, np.ndarray], torch.Tensor]:
    """Where each pixel of a ``size`` (H, W) reference frame is in the moving frame (global similarity,
    then DIS flow), from their :func:`code_at` the same exposure at :func:`reduce`'s resolution: the
    sample maps for :func:`warp`, and ``(H, W)`` True where they fall inside the moving frame (within
    a pixel)."""
    ref, mov = grey8(reference), grey8(moving)
    m = similarity(ref, mov)
    h, w = ref.shape
    # the moving frame as the similarity brings it onto the reference, for the flow to measure the rest
    moved = cv2.warpAffine(mov, m, (w, h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                           borderMode=cv2.BORDER_REPLICATE)
    dense = flow(ref, moved)
    H, W = size
    if (h, w) != (H, W):  # flow and translation in full-resolution pixels
        # OpenCV's per-channel scale: numpy's broadcast over the pairs took 10 ms of a 1080p call
        dense = cv2.multiply(cv2.resize(dense, (W, H), interpolation=cv2.INTER_LINEAR), (W / w, H / h, 0, 0))
        m = m.copy()
        m[:, 2] *= np.array([W / w, H / h])
    maps = sample_map(m, dense)
    # a pixel of slack, filled by the replicated border: flows at the frame's edge point a hair outside
    # (the last row of the static test clips), which must not count as unseen
    inside = (maps[0] >= -1) & (maps[0] <= W) & (maps[1] >= -1) & (maps[1] <= H)
    return maps, torch.from_numpy(inside).to(reference.device)


def warp(planes: Sequence[torch.Tensor], maps: tuple[np.ndarray, np.ndarray]) -> torch.Tensor:
    """``(len(planes), H, W)``: each ``(H, W)`` float32 plane of the moving frame resampled at
    ``maps`` (bilinear, edges replicated). Plane by plane, into the result: no channels-last copy of
    the frame and back (30 ms of each 1080p RGB warp)."""
    out = torch.empty((len(planes), *maps[0].shape), dtype=torch.float32)
    for plane, o in zip(planes, out.numpy()):
        cv2.remap(np.ascontiguousarray(plane.float().cpu().numpy()), maps[0], maps[1], cv2.INTER_LINEAR,
                  dst=o, borderMode=cv2.BORDER_REPLICATE)
    return out.to(planes[0].device)


def align_to(frames: Sequence[torch.Tensor], stops: Sequence[float], reference: int) -> list[torch.Tensor]:
    """``frames`` (gamma-2.2 signal ``(3, H, W)`` each, exposed at ``stops``) resampled onto
    ``frames[reference]`` (:func:`locate` on their :func:`code_at` the brighter exposure of each pair),
    the reference as it is."""
    ref, e_ref = frames[reference], stops[reference]
    small = reduce(radiance(ref, e_ref))
    out = []
    for i, (frame, e) in enumerate(zip(frames, stops)):
        if i == reference:
            out.append(frame)
            continue
        common = max(e_ref, e)
        maps, _ = locate(code_at(small, common), code_at(radiance(reduce(frame), e), common), ref.shape[-2:])
        out.append(warp([*frame], maps).to(frame.dtype))
    return out
