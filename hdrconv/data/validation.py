"""Scoring a model on synthesised samples, shared by ``hdrconv eval`` and the validation of
``hdrconv train``: the model runs through the pipeline's window loop, as a conversion runs it, and every
metric of :mod:`hdrconv.data.metrics` is averaged over the samples (and per SDR tone mapper).

Samples come from scene-linear HDR images (:mod:`hdrconv.data.scenes`), downscaled to the working size
(:data:`hdrconv.data.scenes.WORKING_SIZE`, long side 512 pixels). Three sample sets:

- ``images`` (ITM): each image, SDR made with each tone mapper of the family (fixed parameters); metrics
  PSNR-PQ, SSIM-PQ, Delta E_ITP, PSNR-mu;
- ``clips`` (ITM): one 8-frame clip per image along a seeded camera path, SDR from the simulated
  auto-exposure; the same metrics plus flicker and warping error (output minus ground truth);
- alternating-exposure models are always evaluated on alternating-exposure clips of the same paths.

Every random choice is seeded (:data:`hdrconv.data.scenes.VALIDATION_SEED`), so numbers are comparable
between runs, models and machines. A model with ``scale`` > 1 (joint SR-ITM) gets its input
downscaled by ``scale`` (pixel-area averaging) so that its output matches the ground truth.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from hdrconv.data import metrics as M
from hdrconv.data.grading import alt_exp_HDR10
from hdrconv.data.protocol import GROUPS, HELD_OUT_GROUPS
from hdrconv.data.scenes import (WORKING_SIZE, Sample, alt_exposure_clip_samples, itm_clip_samples,
                                  itm_validation_samples, load_scenes)
from hdrconv.errors import UsageError
from hdrconv.models.base import Model
from hdrconv.pipeline import windows

IMAGE_METRICS = {
    "psnr_pq": M.psnr_pq,
    "ssim_pq": M.ssim_pq,
    "delta_e_itp": M.delta_E_ITP,
    "psnr_mu": M.psnr_mu,
}
"""Per-sample metrics of every evaluation: name -> f(output, reference)."""

TEMPORAL_METRICS = ("flicker", "warping_error")
"""Metrics of clip samples, needing the motion."""

HIGHER_IS_BETTER = {"psnr_pq": True, "ssim_pq": True, "delta_e_itp": False, "psnr_mu": True,
                    "flicker": False, "warping_error": False}

MODES = ("images", "clips")


def samples_for(task: str, paths: list[Path], mode: str = "images", exposures: int = 2,
                groups: tuple[str, ...] = GROUPS) -> list[Sample]:
    """The evaluation samples of the HDR images ``paths`` for a model ``task`` (``"itm"`` or
    ``"alt-exp"``: always clips) under the conditions of the protocol ``groups``."""
    if mode not in MODES:
        raise UsageError(f"unknown evaluation mode {mode!r} (expected {' or '.join(MODES)})")
    scenes = load_scenes(paths, WORKING_SIZE)
    if task == "alt-exp":
        return [s for s in alt_exposure_clip_samples(scenes, exposures) if s.group in groups]
    return itm_validation_samples(scenes, groups) if mode == "images" else itm_clip_samples(scenes)


@torch.inference_mode()
def run_model(model: Model, frames: torch.Tensor, exposures: tuple[float, ...] | None = None) -> torch.Tensor:
    """Run ``model`` over ``frames`` ``(T, 3, h, w)`` through the pipeline's window loop
    (:func:`hdrconv.pipeline.windows.run`), with each frame's exposure in stops when ``exposures``
    gives them; a ``scale`` > 1 model gets the frames downscaled by its scale. The scene radiance of an
    ``alt-exp`` model is graded as ``hdrconv alt-exp`` grades it (:func:`~hdrconv.data.grading.alt_exp_HDR10`)."""
    if model.scale > 1:
        frames = F.avg_pool2d(frames, model.scale)
    stream = (windows.Frame(f, i, None if exposures is None else exposures[i]) for i, f in enumerate(frames))
    out = torch.cat([hdr.float().cpu() for _, hdr in windows.run(model, stream)])
    return alt_exp_HDR10(out, exposures) if model.task == "alt-exp" else out


def sample_metrics(output: torch.Tensor, sample: Sample) -> dict[str, float]:
    """All metrics of one sample (temporal ones for clips)."""
    ref = sample.hdr
    values = {k: f(output, ref) for k, f in IMAGE_METRICS.items()}
    if sample.coords is not None:
        values["flicker"] = M.flicker(output, ref)
        values["warping_error"] = M.warping_error(output, sample.coords, sample.valid, reference=ref)
    return values


def _crop_to_scale(sample: Sample, scale: int) -> Sample:
    if scale == 1:
        return sample
    h, w = (sample.hdr.shape[-2] // scale) * scale, (sample.hdr.shape[-1] // scale) * scale
    coords = None if sample.coords is None else sample.coords[:, :h, :w]
    valid = None if sample.valid is None else sample.valid[:, :h, :w]
    return Sample(sample.name, sample.sdr[..., :h, :w], sample.hdr[..., :h, :w], coords, valid, sample.group,
                  sample.exposures)


def _summary(values: dict[str, list[float]]) -> tuple[dict[str, float], dict[str, float]]:
    return {k: float(np.mean(v)) for k, v in values.items()}, {k: float(np.std(v)) for k, v in values.items()}


@dataclass
class Row:
    """One model's result. ``mean``, ``std`` and ``by_tone_mapper`` cover the in-family samples (and
    clips); ``held_out`` has, for each held-out group of the protocol, its sample count, mean and std
    of every metric and the means per condition (samples are named ``IMAGE/CONDITION``)."""

    model: str
    kind: str
    samples: int
    seconds: float
    mean: dict[str, float] = field(default_factory=dict)
    std: dict[str, float] = field(default_factory=dict)
    by_tone_mapper: dict[str, dict[str, float]] = field(default_factory=dict)
    held_out: dict[str, dict] = field(default_factory=dict)

    @property
    def held_out_mean(self) -> dict[str, float]:
        """Mean over the held-out groups of each group's mean (every group weighs the same)."""
        groups = [g["metrics"] for g in self.held_out.values()]
        return {k: float(np.mean([g[k]["mean"] for g in groups])) for k in groups[0]} if groups else {}

    def as_dict(self) -> dict:
        d = {"model": self.model, "kind": self.kind, "samples": self.samples, "seconds": round(self.seconds, 3),
             "metrics": {k: {"mean": self.mean[k], "std": self.std[k]} for k in self.mean}}
        if self.by_tone_mapper:
            d["by_tone_mapper"] = self.by_tone_mapper
        if self.held_out:
            d["held_out"] = self.held_out
            d["held_out_mean"] = self.held_out_mean
        return d


def evaluate_model(model: Model, samples: list[Sample]) -> Row:
    """Evaluate one model on ``samples``."""
    start = time.perf_counter()
    per: dict[str, dict[str, list[float]]] = {}
    conditions: dict[str, dict[str, dict[str, list[float]]]] = {}
    for s in samples:
        s = _crop_to_scale(s, model.scale)
        values = sample_metrics(run_model(model, s.sdr, s.exposures), s)
        _, sep, condition = s.name.partition("/")
        for k, v in values.items():
            per.setdefault(s.group, {}).setdefault(k, []).append(v)
            if sep:
                conditions.setdefault(s.group, {}).setdefault(condition, {}).setdefault(k, []).append(v)
    seconds = time.perf_counter() - start
    mean, std = _summary(per.get("in-family", {}))
    held_out = {}
    for g in HELD_OUT_GROUPS:
        if g in per:
            g_mean, g_std = _summary(per[g])
            held_out[g] = {"samples": len(next(iter(per[g].values()))),
                           "metrics": {k: {"mean": g_mean[k], "std": g_std[k]} for k in g_mean},
                           "by_condition": {c: _summary(m)[0] for c, m in conditions[g].items()}}
    return Row(model.name, model.kind, sum(s.group == "in-family" for s in samples), seconds, mean, std,
               {c: _summary(m)[0] for c, m in conditions.get("in-family", {}).items()}, held_out)
