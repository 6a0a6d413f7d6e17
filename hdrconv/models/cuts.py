"""Scene cuts, detected frame by frame for the temporal models: where their clues carried from the
previous frame (smoothed parameters, exposure stabilisation) must restart.

Two tests, both on the 1/8-resolution thumbnail a model already computes, both deciding on the frame
itself (the window loop streams frames; a model cannot wait for later ones):

- :func:`is_scene_cut`: the luma histograms of consecutive thumbnails are far apart (FastITM and
  AnchoredITM);
- :func:`pixels_disagree`: co-located thumbnail pixels disagree on how the exposure changed
  (FastITM's :func:`~hdrconv.models.fast_arch.exposure_change`), which catches cuts between shots of
  similar brightness that the histograms miss.

Why not PySceneDetect
---------------------
PySceneDetect (``scenedetect`` 0.7.2) was measured against these tests by ``bench/scene_cuts.py``:
one clip per image of ``../shared/hdr`` (37) of each kind - two images concatenated before the
auto-exposure camera (the cut frame known), one image with the light stepped by +-1.5 stops, one with
a camera pan three times the default - each detector fed frame by frame, a cut counting only when
flagged on its frame. Cuts detected, and false alarms (flags on other frames) in the cut clips, the
light steps and the fast pans; crops of 160x256 x 24 frames (the default, 2553 frames), then of
240x384 x 16 frames (``--size 768 --crop 240 384 --frames 16``, 1665 frames)::

    detector                              160x256: cuts  false alarms   240x384: cuts  false alarms
    histogram (is_scene_cut)                       30/37   3 + 8 + 6              33/37   3 + 9 + 3
    histogram or pixels_disagree (FastITM)         37/37  83 + 139 + 167          37/37  91 + 107 + 120
    PySceneDetect ContentDetector                  37/37  23 + 23 + 47            37/37  15 + 15 + 33
    PySceneDetect HistogramDetector                34/37  23 + 35 + 38            36/37  16 + 34 + 16

Not adopted, because:

- against the histogram test, which restarts the smoothed global parameters of both models (a false
  alarm drops the smoothing on that frame), PySceneDetect finds the cuts the histograms miss but
  raises 4 to 6 times as many false alarms (ContentDetector 93 and 63, HistogramDetector 96 and 66,
  against 17 and 15): not as good;
- against FastITM's combined test, which restarts its exposure stabilisation, ContentDetector
  measures better (63 false alarms against 318 on the larger crops), but taking it would change
  FastITM's decisions, and this module was created with none changed (issue 12): a change of
  behaviour for an issue of its own, validated on ``bench/flicker.py``;
- it fits the streaming loop only with ``min_scene_len=0`` (its default merge filter withholds a
  cut until 15 frames have followed it) and wants 8-bit BGR NumPy frames on the CPU (a copy of
  every frame off an accelerator), with a stateful detector per stream in the model state; it costs
  24 ms (ContentDetector) or 5 ms (HistogramDetector) per 1080p frame on one busy core, where the
  thumbnail histogram is already computed for the network;
- ``scenedetect`` requires ``opencv-python`` beside the ``opencv-python-headless`` this project
  installs (two packages providing ``cv2``; ``scenedetect-headless`` would avoid that).
"""

from __future__ import annotations

import torch

HISTOGRAM_THRESHOLD = 0.5
"""L1 distance between consecutive thumbnail histograms (at most 2) above which a frame starts a new
shot."""

EXPOSURE_AGREEMENT = 0.4
"""Fraction of the usable co-located thumbnail pixels that must agree on an exposure change
(:func:`pixels_disagree`): on the clips of ``bench/flicker.py``, consecutive frames agree at 0.65 or
more, frames of different scenes at 0.19 or less."""

AGREEMENT_STOPS = 0.15
"""Distance from the median exposure change, in stops, within which a pixel agrees with it."""


def is_scene_cut(hist: torch.Tensor, previous: torch.Tensor, threshold: float = HISTOGRAM_THRESHOLD) -> bool:
    """A scene cut: the L1 distance between consecutive thumbnail histograms (at most 2) exceeds
    ``threshold``."""
    return (hist - previous).abs().sum().item() > threshold


def pixels_disagree(changes: torch.Tensor, median: torch.Tensor, agreement: float = EXPOSURE_AGREEMENT,
                    tolerance: float = AGREEMENT_STOPS) -> bool:
    """A scene cut: fewer than ``agreement`` of the per-pixel exposure changes ``changes`` (stops,
    co-located thumbnail pixels of consecutive frames) lie within ``tolerance`` of their ``median``.

    An exposure change scales every pixel of one scene alike, and motion moves a minority of them
    either way; pixels of two different scenes share no change.
    """
    return ((changes - median).abs() < tolerance).float().mean().item() < agreement
