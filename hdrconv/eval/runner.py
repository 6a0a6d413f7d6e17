"""Evaluation of models side by side on the same samples: ``hdrconv eval`` and the validation of
``hdrconv train``.

Samples come from a folder of scene-linear HDR images (:mod:`hdrconv.train.data`): for ``../shared/hdr``
its fixed validation split, for any other folder every image. Images are downscaled to the working size
(:data:`hdrconv.train.data.WORKING_SIZE`, long side 512 pixels). Three sample sets:

- ``images`` (ITM): each image, SDR made with each tone mapper of the family (fixed parameters); metrics
  PSNR-PQ, SSIM-PQ, Delta E_ITP, PSNR-mu;
- ``clips`` (ITM): one 8-frame clip per image along a seeded camera path, SDR from the simulated
  auto-exposure; the same metrics plus flicker and warping error (output minus ground truth);
- alternating-exposure models are always evaluated on alternating-exposure clips of the same paths.

Every random choice is seeded (:data:`hdrconv.train.data.VALIDATION_SEED`), so numbers are comparable
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

from hdrconv.errors import UsageError
from hdrconv.eval import metrics as M
from hdrconv.io.hdr_image import list_hdr_images
from hdrconv.models.base import Model
from hdrconv.train.data import (VALIDATION_FILES, WORKING_SIZE, Sample, alt_exposure_clip_samples, itm_clip_samples,
                                itm_validation_samples, load_scenes, split)

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


def evaluation_files(folder: str | Path) -> list[Path]:
    """The images evaluated in ``folder``: the validation split of a folder that holds the named
    validation files (``../shared/hdr``), else all of them."""
    paths = list_hdr_images(folder)
    if any(p.name in VALIDATION_FILES for p in paths):
        return split(paths)[1]
    return paths


def samples_for(task: str, paths: list[Path], mode: str = "images", exposures: int = 2) -> list[Sample]:
    """The evaluation samples of the HDR images ``paths`` for a model ``task`` (``"itm"`` or
    ``"alt-exp"``)."""
    if mode not in MODES:
        raise UsageError(f"unknown evaluation mode {mode!r} (expected {' or '.join(MODES)})")
    scenes = load_scenes(paths, WORKING_SIZE)
    if task == "alt-exp":
        return alt_exposure_clip_samples(scenes, exposures)
    return itm_validation_samples(scenes) if mode == "images" else itm_clip_samples(scenes)


@torch.inference_mode()
def run_model(model: Model, frames: torch.Tensor) -> torch.Tensor:
    """Run ``model`` over ``frames`` ``(T, 3, h, w)`` window by window, threading its state, as the
    pipeline does; a ``scale`` > 1 model gets the frames downscaled by its scale."""
    if model.scale > 1:
        frames = F.avg_pool2d(frames, model.scale)
    state = model.initial_state()
    out = []
    for i in range(0, frames.shape[0], model.window):
        hdr, state = model.process(frames[i:i + model.window].to(model.device), state)
        out.append(hdr.float().cpu())
    return torch.cat(out)


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
    return Sample(sample.name, sample.sdr[..., :h, :w], sample.hdr[..., :h, :w], coords, valid)


@dataclass
class Row:
    """One model's result: mean and standard deviation over samples of every metric, and the means per
    SDR tone mapper (image samples are named ``IMAGE/TONE_MAPPER``)."""

    model: str
    kind: str
    samples: int
    seconds: float
    mean: dict[str, float] = field(default_factory=dict)
    std: dict[str, float] = field(default_factory=dict)
    by_tone_mapper: dict[str, dict[str, float]] = field(default_factory=dict)

    def as_dict(self) -> dict:
        d = {"model": self.model, "kind": self.kind, "samples": self.samples, "seconds": round(self.seconds, 3),
             "metrics": {k: {"mean": self.mean[k], "std": self.std[k]} for k in self.mean}}
        if self.by_tone_mapper:
            d["by_tone_mapper"] = self.by_tone_mapper
        return d


def evaluate_model(model: Model, samples: list[Sample]) -> Row:
    """Evaluate one model on ``samples``."""
    start = time.perf_counter()
    per: dict[str, list[float]] = {}
    groups: dict[str, dict[str, list[float]]] = {}
    for s in samples:
        s = _crop_to_scale(s, model.scale)
        values = sample_metrics(run_model(model, s.sdr), s)
        _, sep, tone_mapper = s.name.rpartition("/")
        for k, v in values.items():
            per.setdefault(k, []).append(v)
            if sep:
                groups.setdefault(tone_mapper, {}).setdefault(k, []).append(v)
    seconds = time.perf_counter() - start
    return Row(model.name, model.kind, len(samples), seconds,
               {k: float(np.mean(v)) for k, v in per.items()}, {k: float(np.std(v)) for k, v in per.items()},
               {g: {k: float(np.mean(v)) for k, v in m.items()} for g, m in groups.items()})


_LABELS = {"psnr_pq": "PSNR-PQ", "ssim_pq": "SSIM-PQ", "delta_e_itp": "ΔE_ITP", "psnr_mu": "PSNR-μ",
           "flicker": "flicker", "warping_error": "warp"}


def print_table(rows: list[Row], title: str | None = None) -> None:
    """Rich table of ``rows``: mean over std per metric (PSNRs in dB; arrows say which way is better),
    best mean in bold, and the seconds each model took."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    metrics = [k for k in HIGHER_IS_BETTER if rows and k in rows[0].mean]
    samples = ", ".join(sorted({f"{r.samples} samples" for r in rows}))
    table = Table(title=f"{title} ({samples})" if title else samples, show_lines=True, box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("model", no_wrap=True)
    for k in metrics:
        table.add_column(f"{_LABELS[k]}{'↑' if HIGHER_IS_BETTER[k] else '↓'}", justify="right", no_wrap=True)
    table.add_column("s", justify="right", no_wrap=True)
    best = {k: (max if HIGHER_IS_BETTER[k] else min)(r.mean[k] for r in rows) for k in metrics}
    digits = {"ssim_pq": 4, "flicker": 4, "warping_error": 5}
    for r in rows:
        cells = []
        for k in metrics:
            d = digits.get(k, 2)
            mean = f"{r.mean[k]:.{d}f}"
            mean = f"[bold]{mean}[/bold]" if len(rows) > 1 and r.mean[k] == best[k] else mean
            cells.append(f"{mean}\n[dim]±{r.std[k]:.{d}f}[/dim]")
        table.add_row(r.model, *cells, f"{r.seconds:.1f}")
    Console().print(table)


def evaluate(models: list[Model], folder: str | Path, mode: str = "images", exposures: int = 2) -> list[Row]:
    """Evaluate ``models`` side by side on the samples of ``folder``; every model of one task sees the
    same samples."""
    tasks = {m.task for m in models}
    if len(tasks) > 1:
        raise UsageError("evaluate ITM and alternating-exposure models separately (they need different inputs)")
    if not models:
        raise UsageError("no model to evaluate")
    samples = samples_for(tasks.pop(), evaluation_files(folder), mode, exposures)
    return [evaluate_model(m, samples) for m in models]
