"""Learned SDR -> HDR models: the networks of the ``*_arch`` modules behind the :class:`Model` interface.

Both run only with trained weights (:meth:`LearnedModel.require_trained`); ``hdrconv train NAME``
makes them.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch

from hdrconv.color.conventions import PQ_PEAK_NITS
from hdrconv.models.base import LearnedModel
from hdrconv.models.fast_arch import FastITMNet, smooth_parameters
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
    smoothed over time, plus a guided-upsampled local highlight gain. Real time on a CPU."""

    name = "fastitm"
    summary = "thumbnail-predicted global mapping + guided local gain, temporally smoothed; CPU real time"
    default_arch: ClassVar[dict] = {}
    beta: ClassVar[float] = 0.8
    """Temporal smoothing of the global parameters (:func:`smooth_parameters`)."""

    @classmethod
    def build_net(cls, **arch) -> torch.nn.Module:
        return FastITMNet(**arch)

    def process(self, frames: torch.Tensor, state: Any) -> tuple[torch.Tensor, Any]:
        self.require_trained()
        out = []
        with torch.inference_mode():
            for frame in frames.to(self.device).split(1):
                params, low, gain = self.net.analyse(frame)
                params, state = smooth_parameters(params, state, self.beta)
                out.append(self.net.render(frame, params, low, gain).clamp_(0, PQ_PEAK_NITS))
        # concatenated outside inference mode: an ordinary tensor the pipeline may modify in place
        return torch.cat(out), state
