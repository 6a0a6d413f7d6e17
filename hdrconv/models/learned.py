"""Learned SDR -> HDR models: the networks of the ``*_arch`` modules behind the :class:`Model` interface.

Every one runs only with trained weights (:meth:`LearnedModel.require_trained`); ``hdrconv train NAME``
makes them.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch

from hdrconv.color.conventions import PQ_PEAK_NITS
from hdrconv.models.anchored_arch import MASTERING_PEAK_NITS, AnchoredITMNet
from hdrconv.models.base import LearnedModel
from hdrconv.models.fast_arch import FastITMNet
from hdrconv.models.irnet_arch import IRNet
from hdrconv.models.registry import register


@register
class IRNetModel(LearnedModel):
    """IRNet-2 (Xue et al. 2023, see :mod:`hdrconv.models.irnet_arch`): a 135 K-parameter CNN at full
    resolution, run tile by tile. Accurate but slow on a CPU (tens of seconds per 1080p frame)."""

    name = "irnet"
    summary = "IRNet-2 CNN (Xue et al. 2023), full resolution, tiled; slow on CPU, for GPUs"
    default_arch: ClassVar[dict] = {"n": 2, "C": 64}

    @classmethod
    def build_net(cls, **arch) -> torch.nn.Module:
        # channels-last convolutions: 1.6x faster training steps on CPU (16 x 96^2 patches: 5.0 s vs 7.9 s)
        return IRNet(**arch).to(memory_format=torch.channels_last)


@register
class FastITMModel(LearnedModel):
    """FastITM (:mod:`hdrconv.models.fast_arch`): per-frame global mapping predicted from a thumbnail,
    smoothed and exposure-stabilised over time, plus a guided-upsampled local highlight gain. Real time
    on a CPU."""

    name = "fastitm"
    summary = ("thumbnail-predicted global mapping + guided local gain, smoothed and exposure-stabilised "
               "over time; CPU real time")
    default_arch: ClassVar[dict] = {}
    temporal: ClassVar[bool] = True  # smoothed parameters and exposure stabilisation, frame to frame
    beta: ClassVar[float] = 0.95
    """Temporal smoothing of the global parameters (:func:`smooth_parameters`): a time constant of
    20 frames (0.8 s at 24 fps). Measured on the 5-second clips of ``bench/flicker.py``, before the
    exposure stabilisation: flicker +0.0144 at 0.8, +0.0119 at 0.95, +0.0105 with the parameters
    frozen for the whole clip; what was left, the expansion amplifying the simulated camera's
    auto-exposure, is what the exposure stabilisation of :meth:`FastITMNet.video_frame` removes
    (10-second clips, shipped weights: +0.0075 without it, +0.0018 with it)."""

    @classmethod
    def build_net(cls, **arch) -> torch.nn.Module:
        return FastITMNet(**arch)

    def process(self, frames: torch.Tensor, state: Any) -> tuple[torch.Tensor, Any]:
        return _video_frames(self, frames, state)


def _video_frames(model: LearnedModel, frames: torch.Tensor, state: Any) -> tuple[torch.Tensor, Any]:
    """Run a network with a ``video_frame(frame, state, beta)`` method frame by frame, threading its
    state, outputs clamped to the PQ range."""
    model.require_trained()
    out = []
    # no_grad, not inference_mode: the result is an ordinary tensor callers may modify in place,
    # so a one-frame window needs no copy (24 MB at 1080p)
    with torch.no_grad():
        for frame in frames.to(model.device).split(1):
            hdr, state = model.net.video_frame(frame, state, model.beta)
            out.append(hdr.clamp_(0, PQ_PEAK_NITS))
    return (out[0] if len(out) == 1 else torch.cat(out)), state


@register
class AnchoredITMModel(LearnedModel):
    """AnchoredITM (:mod:`hdrconv.models.anchored_arch`): BT.2446 Method A with a thumbnail-predicted
    exposure curve, saturation and guided local gain, every correction bounded around Method A;
    global parameters smoothed over time within a shot."""

    name = "anchored"
    summary = "BT.2446 Method A + learned bounded corrections (exposure curve, saturation, local gain)"
    peak_nits = MASTERING_PEAK_NITS
    default_arch: ClassVar[dict] = {}
    beta: ClassVar[float] = FastITMModel.beta
    """Temporal smoothing of the global parameters, as FastITM's."""

    @classmethod
    def build_net(cls, **arch) -> torch.nn.Module:
        return AnchoredITMNet(**arch)

    def process(self, frames: torch.Tensor, state: Any) -> tuple[torch.Tensor, Any]:
        return _video_frames(self, frames, state)
