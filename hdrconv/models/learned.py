"""Learned models: the networks of the ``*_arch`` modules behind the :class:`Model` interface (SDR -> HDR,
and alternating exposures -> HDR).

Every one runs only with trained weights (:meth:`LearnedModel.require_trained`); ``hdrconv train NAME``
makes them.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch

from hdrconv.color.conventions import PQ_PEAK_NITS
from hdrconv.errors import UsageError
from hdrconv.models import alignment
from hdrconv.models.alternating_arch import AlternatingExposureNet
from hdrconv.models.anchored_arch import MASTERING_PEAK_NITS, AnchoredITMNet
from hdrconv.models.base import LearnedModel, Window
from hdrconv.models.engine import autocast_dtype
from hdrconv.models.fast_arch import FastITMNet
from hdrconv.models.irnet_arch import IRNet
from hdrconv.models.temporal_arch import TemporalITMNet
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


@register
class TemporalITMModel(LearnedModel):
    """TemporalITM (:mod:`hdrconv.models.temporal_arch`): recurrent over the stream, the previous
    frame's features and HDR estimate aligned and propagated as clues, its output a bounded correction
    of BT.2446 Method A; the state restarts at scene cuts (signalled by the window or detected). In the
    CPU configuration :data:`CPU_ARCH` (the paper-like network is the architecture's defaults)."""

    name = "temporal"
    summary = "recurrent temporal-clue video ITM (alignment, Swin, ExpandNet) correcting BT.2446 Method A"
    peak_nits = MASTERING_PEAK_NITS
    temporal: ClassVar[bool] = True
    tileable: ClassVar[bool] = False  # the state covers the whole frame
    CPU_ARCH: ClassVar[dict] = {"features": 16, "downscale": 8, "encoder_blocks": 1, "embed_dim": 32, "depth": 2,
                                "num_heads": 2, "window_size": 8, "swin_downscale": 2, "expand_width": 16,
                                "dilated_layers": 2}
    """Features at 1/8 and the Swin tokens at 1/16 of the frame, a quarter of the paper-like widths."""
    default_arch: ClassVar[dict] = CPU_ARCH

    @classmethod
    def build_net(cls, **arch) -> torch.nn.Module:
        return TemporalITMNet(**arch)

    def process(self, frames: torch.Tensor, state: Any) -> tuple[torch.Tensor, Any]:
        """``frames`` as consecutive frames of one stream (cuts detected, none signalled)."""
        return self._frames(frames, (False,) * len(frames), state)

    def process_window(self, window: Window, state: Any) -> tuple[torch.Tensor, Any]:
        return self._frames(window.stacked(window.targets), window.cuts[window.targets], state)

    def _frames(self, frames: torch.Tensor, cuts: tuple[bool, ...], state: Any) -> tuple[torch.Tensor, Any]:
        self.require_trained()
        dtype = autocast_dtype(self.device)
        out = []
        with torch.no_grad():
            for frame, cut in zip(frames.to(self.device).split(1), cuts):
                hdr, state = self.net.step(frame, None if cut else state, detect_cuts=True, autocast=dtype)
                out.append(hdr)
        return torch.cat(out).to(frames.device), state


class CoarseToFineModel(LearnedModel):
    """The coarse-to-fine HDR video network (Chen et al. 2021, :mod:`hdrconv.models.alternating_arch`)
    for footage alternating :attr:`exposures` exposures, in the CPU configuration :data:`CPU_ARCH` (the
    paper's network is the architecture's defaults: ``--arch`` with each key of :data:`CPU_ARCH` set to
    :class:`~hdrconv.models.alternating_arch.AlternatingExposureNet`'s default).

    One target per window with ``exposures`` frames of context on each side, each brought onto the target
    frame first (:func:`hdrconv.models.alignment.align_to`: similarity, then DIS flow, as ``merge``
    aligns), in training as here. The paper pre-aligns by a similarity (§3.1) and leaves the rest to
    CoarseNet's flow network; the CPU network's flow at a quarter of the resolution, trained for hours
    rather than days, is left the remainder instead: at step 0 the 2-exposure validation clips scored
    26.23 dB PSNR-mu unaligned and 30.47 pre-aligned (sigmoid weights, :mod:`~hdrconv.models.coarse_arch`).
    The frames are the gamma-2.2
    LDR frames of the ``alt-exp`` domain (:mod:`hdrconv.models.base`) and :attr:`Window.exposures`
    their stops. Out: the network's BT.709 scene radiance (1.0: the EV 0 clipping level, never
    negative), the ``alt-exp`` output domain, which ``hdrconv alt-exp`` places in cd/m2.
    """

    task: ClassVar[str] = "alt-exp"
    exposures: ClassVar[int]
    tileable: ClassVar[bool] = False
    CPU_ARCH: ClassVar[dict] = {"flow_levels": 3, "flow_channels": [16, 32, 16], "flow_scale": 4,
                                "weight_channels": [8, 16, 32], "C": 24, "deformable_groups": 4,
                                "extract_blocks": 1, "reconstruct_blocks": 2, "align_scale": 4}
    """Flow and alignment at a quarter of the resolution, a quarter to a third of the paper's channels:
    counted with torch's FlopCounterMode on a 1080p frame, 297 GFLOP (0.59 M parameters) against 1392
    GFLOP (0.91 M) with flow and alignment at half resolution; the paper's network needs several TFLOP."""
    default_arch: ClassVar[dict] = CPU_ARCH
    ablations: ClassVar[tuple[str, ...]] = ("coarse",)
    """``coarse``: CoarseNet's HDR of the centre frame, without RefineNet and the well-exposed blend
    (CoarseNet alone against the whole network, the paper's Table 5)."""

    @classmethod
    def build_net(cls, **arch) -> torch.nn.Module:
        return AlternatingExposureNet(exposures=cls.exposures, **arch)

    def process(self, frames: torch.Tensor, state: Any) -> tuple[torch.Tensor, Any]:
        raise UsageError(f"model {self.name} needs each frame's exposure: run it on alternating-exposure "
                         "footage (hdrconv alt-exp)")

    def process_window(self, window: Window, state: Any) -> tuple[torch.Tensor, Any]:
        self.require_trained()
        if any(e is None for e in window.exposures):
            raise UsageError(f"model {self.name} needs each frame's exposure (alternating-exposure footage)")
        k = self.exposures
        dtype = autocast_dtype(self.device)
        out = []
        for t in range(len(window.indices))[window.targets]:
            around = slice(t - k, t + k + 1)
            frames = torch.stack(alignment.align_to(window.frames[around], window.exposures[around], k))
            stops = torch.tensor(window.exposures[around], dtype=torch.float32, device=self.device)
            with torch.inference_mode(), torch.autocast(self.device.type, dtype=dtype or torch.float32,
                                                        enabled=dtype is not None):
                hdr, coarse, _ = self.net(frames[None].to(self.device), stops[None])
                out.append((coarse if self.ablation == "coarse" else hdr)[0].float().clamp_(min=0))
        return torch.stack(out).to(window.frames[0].device), state


@register
class CoarseToFine2(CoarseToFineModel):
    name = "c2f-2exp"
    summary = "coarse-to-fine network (Chen et al. 2021) for 2 alternating exposures, CPU-sized"
    exposures: ClassVar[int] = 2
    context: ClassVar[tuple[int, int]] = (2, 2)


@register
class CoarseToFine3(CoarseToFineModel):
    name = "c2f-3exp"
    summary = "coarse-to-fine network (Chen et al. 2021) for 3 alternating exposures, CPU-sized"
    exposures: ClassVar[int] = 3
    context: ClassVar[tuple[int, int]] = (3, 3)
