"""The training loop of ``hdrconv train``: any registered :class:`~hdrconv.models.base.LearnedModel` of
a task with a training sampler (:data:`hdrconv.train.samplers.SAMPLERS`: the ITM task, on patches
synthesised from a folder of HDR images, :mod:`hdrconv.data.scenes`, and the alternating-exposure task,
on clips synthesised from them), or with a sampler of its own
(:data:`~hdrconv.train.samplers.MODEL_SAMPLERS`: the recurrent video ITM model, on clips with known
warps).

- Data: batches drawn by the sampler of the model's task from the training split only (for ITM:
  random patches, random flips / rot90, random grading anchor and SDR recipe per patch); the
  validation split is never seen.
- Optimiser: AdamW with a cosine learning-rate schedule from ``lr`` to ``lr / 100``. The schedule runs
  on the *progress* of the budget, the larger of steps done / ``steps`` and time spent / ``minutes``,
  so that a time budget also ends at the low learning rate.
- Start: random weights, or with ``init`` a weights file of the same architecture (fine-tuning); the
  card then carries the ``training`` record of the card beside those weights, so the whole history
  of the shipped weights stays on one card.
- Precision: float32, or with ``bf16`` forward and backward under bfloat16 autocast (master weights
  and AdamW state in float32): 0.29 s instead of 0.55 s per IRNet-2 step of 8 x 96² patches on this
  project's AVX512-BF16 CPU. Validation always runs the float32 ``process`` users run.
- Seeds: ``seed`` seeds numpy (data) and torch (initial weights); a checkpoint stores both generators,
  so an interrupted run resumed with ``resume=True`` continues the same sample stream. The budget is
  the total over the run and its resumptions.
- Output: ``OUT`` (the network's state dict, loadable with ``torch.load(weights_only=True)``), the
  model card beside it with the suffix ``.json`` (:func:`~hdrconv.models.base.model_card_path`) and,
  during training, ``OUT`` with ``.ckpt`` (network, optimiser, step, time spent, generator states; also
  ``weights_only``-loadable).
- Validation: before the first step and at the end, the model runs through the pipeline's window loop
  (as a conversion would run it, weights loaded from a file) on the validation samples of its task,
  :func:`hdrconv.data.validation.samples_for`; the card also carries the metrics of the analytic
  baselines of the same task on the same samples and, for a network with ablations (the
  coarse-to-fine networks: CoarseNet alone), those of each part alone (``validation.ablation``).
"""

from __future__ import annotations

import json
import math
import os
import pickle
import platform
import tempfile
import time
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from hdrconv.errors import InputMissingError, OutputError, UsageError
from hdrconv.data.validation import Row, evaluate_model, samples_for
from hdrconv.io.hdr_image import list_hdr_images
from hdrconv.models import registry
from hdrconv.models.base import LearnedModel, model_card_path
from hdrconv.data import grading, protocol, synthesis, video
from hdrconv.train.config import TrainConfig
from hdrconv.data.scenes import (TRAINING_MAX_SIZE, VALIDATION_SEED, WORKING_SIZE, graphics_scenes,
                                load_scenes, manifest_hash, split)
from hdrconv.train.losses import LOSSES
from hdrconv.train import samplers
from hdrconv.train.samplers import SAMPLERS, Sampler, sampler_for

FINAL_LR_FRACTION = 0.01


def cosine_lr(base: float, progress: float) -> float:
    """Cosine decay from ``base`` at progress 0 to ``base * FINAL_LR_FRACTION`` at progress 1."""
    p = min(max(progress, 0.0), 1.0)
    low = base * FINAL_LR_FRACTION
    return low + 0.5 * (base - low) * (1 + math.cos(math.pi * p))


def parse_arch(items: list[str]) -> dict:
    """``KEY=VALUE`` strings -> dict; values are parsed as JSON where they can be (``C=8`` -> 8,
    ``act=relu`` -> ``"relu"``)."""
    arch = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"--arch wants KEY=VALUE, got {item!r}")
        try:
            arch[key] = json.loads(value)
        except json.JSONDecodeError:
            arch[key] = value
    return arch


def machine() -> dict:
    """Where a run happened."""
    return {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
            "cpus": os.cpu_count(), "torch_threads": torch.get_num_threads(), "python": platform.python_version(),
            "torch": torch.__version__}


def alt_exp_settings(capture: str = "realistic") -> dict:
    """The alternating-exposure synthesis constants (:mod:`hdrconv.data.video`, the sampler, clips captured
    as ``capture`` says) and the validation clips' conditions (:func:`hdrconv.data.protocol.alt_exp_conditions`)."""
    realistic = capture == "realistic"
    return {"exposure_steps_stops": list(video.ALT_EXPOSURE_STOPS), "noise_sigma_linear": video.ALT_EXPOSURE_NOISE_SIGMA,
            "scene_key_jitter_stops": grading.EXPOSURE_JITTER_STOPS, "capture": capture,
            "camera_responses": list(samplers.ALT_EXP_CAMERAS) if realistic else ["gamma:2.2"],
            "full_well_range": list(samplers.FULL_WELL_RANGE) if realistic else None,
            "h264_probability": synthesis.H264_PROBABILITY if realistic else 0.0,
            "h264_crf_range": list(synthesis.H264_CRF_RANGE),
            "still_clips": samplers.STILL_CLIPS, "tone_perturbation": None,
            "pre_alignment": "similarity + DIS flow onto the centre frame",
            "validation_conditions": {c.name: c.group for c in protocol.alt_exp_conditions()},
            "validation_ground_truth": "the scene graded as hdrconv alt-exp grades (EV 0 clipping level at 203 cd/m2)"}


def video_clip_settings() -> dict:
    """The video ITM clips' constants (:func:`hdrconv.train.samplers.video_itm_sample`)."""
    return {"frames": samplers.VIDEO_FRAMES, "current_exposure_stops": list(samplers.CURRENT_EXPOSURE_STOPS),
            "other_exposure_stops": list(samplers.OTHER_EXPOSURE_STOPS), "still_clips": samplers.STILL_CLIPS,
            "camera": "auto-exposure of the video ITM supplementary, Eq. 1-3, moving foreground"}


def synthesis_settings(tone_mappers: tuple[str, ...], task: str = "itm", capture: str = "realistic") -> dict:
    """The data-synthesis constants a model of ``task`` was trained with."""
    if task == "alt-exp":
        return {"alternating_exposure": alt_exp_settings(capture), "training_max_size": TRAINING_MAX_SIZE,
                "validation": {"working_size": WORKING_SIZE, "seed": VALIDATION_SEED}}
    return {
        "grading": {"anchor": "scene key (log-average luminance) -> middle grey",
                    "rendering": (grading.TRAINING_GRADE.rendering + (
                        ": BT.2100 PQ reference OOTF on BT.709 RGB" if grading.TRAINING_GRADE.rendering == "display"
                        else ": relative light x reference white")),
                    "middle_grey_nits": grading.TRAINING_GRADE.middle_grey_nits,
                    "exposure_jitter_stops": grading.EXPOSURE_JITTER_STOPS,
                    "reference_white_nits": grading.REFERENCE_WHITE_NITS,
                    "mastering_peak_nits": grading.MASTERING_PEAK_NITS,
                    "roll_off": "BT.2390 EETF on max(R,G,B), PQ domain", "primaries": "BT.2020", "signal": "PQ"},
        "sdr": {"tone_mappers": list(tone_mappers),
                "drago_bias_range": list(synthesis.DRAGO_BIAS_RANGE),
                "sigmoid_contrast_range": list(synthesis.SIGMOID_CONTRAST_RANGE),
                "sigmoid_white_range": list(synthesis.SIGMOID_WHITE_RANGE),
                "eetf_sdr_white_range_nits": list(synthesis.SDR_WHITE_RANGE),
                "exposure_stops": synthesis.SDR_EXPOSURE_STOPS,
                "reinhard_white_range": list(synthesis.REINHARD_WHITE_RANGE),
                "camera_knee_point_range": list(synthesis.KNEE_POINT_RANGE),
                "camera_white_range": list(synthesis.KNEE_WHITE_RANGE),
                "saturation_range": list(synthesis.SATURATION_RANGE),
                "h264_probability": synthesis.H264_PROBABILITY, "h264_crf_range": list(synthesis.H264_CRF_RANGE),
                "gamut": "BT.2020 -> BT.709 constant-luminance desaturation", "encoding": "BT.1886, 8 bit"},
        "training_max_size": TRAINING_MAX_SIZE,
        "validation": {"working_size": WORKING_SIZE, "seed": VALIDATION_SEED,
                       "recipes": [r.as_dict() for r in synthesis.evaluation_recipes()]},
    }


def _model_class(name: str) -> tuple[type[LearnedModel], Sampler]:
    """The class of the learned model ``name`` and the sampler it trains with (its own or its task's,
    :func:`~hdrconv.train.samplers.sampler_for`)."""
    cls = registry.get(name)
    if not issubclass(cls, LearnedModel):
        raise UsageError(f"model {name!r} is analytic: nothing to train")
    sampler = sampler_for(cls)
    if sampler is None:
        raise UsageError(f"model {cls.name!r}: hdrconv train has no sampler for task {cls.task!r} "
                         f"(samplers for: {', '.join(SAMPLERS)})")
    if (cls.window, cls.scale) != (sampler.window, sampler.scale):
        raise UsageError(f"model {cls.name!r}: the {cls.task} sampler draws {sampler.what} for window "
                         f"{sampler.window}, scale {sampler.scale} (the model has window {cls.window}, "
                         f"scale {cls.scale})")
    return cls, sampler


def evaluate_network(cls: type[LearnedModel], arch: dict, net: torch.nn.Module, samples,
                     ablation: str | None = None) -> Row:
    """Validation of ``net`` as users would run it: weights saved and loaded back through the model
    class (``weights_only``), then its ``process`` on ``samples``; with ``ablation`` (one of the
    class's :attr:`~hdrconv.models.base.LearnedModel.ablations`), of that part of the network alone."""
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / f"{cls.name}.pt"
        torch.save(net.state_dict(), path)
        model = cls(weights=str(path), **arch)
        model.ablation = ablation
        return evaluate_model(model, samples)


def _metrics(row: Row) -> dict:
    return row.as_dict()["metrics"]


def _in_family(samples: list) -> list:
    return [s for s in samples if s.group == "in-family"]


def validation_record(cls: type[LearnedModel], arch: dict, net: torch.nn.Module, samples: list,
                      baselines: tuple[str, ...], initial: dict) -> dict:
    """The ``validation`` section of a model card: in-family metrics of the network at step 0
    (``initial``) and now, the held-out groups of the evaluation protocol
    (:mod:`hdrconv.data.protocol`), and the same for each analytic baseline on the same samples;
    for a class with :attr:`~hdrconv.models.base.LearnedModel.ablations`, ``ablation`` has the
    in-family metrics of each part of the network alone, run and graded as the whole."""
    final_row = evaluate_network(cls, arch, net, samples)
    rows = {cls.name: final_row, **{name: evaluate_model(registry.create(name), samples) for name in baselines}}
    record = {"samples": final_row.samples, "step_0": initial, "final": _metrics(final_row),
              "baselines": {n: _metrics(r) for n, r in rows.items() if n != cls.name},
              "by_tone_mapper": {n: r.by_tone_mapper for n, r in rows.items()},
              "held_out": {n: {"groups": r.held_out, "mean": r.held_out_mean} for n, r in rows.items()}}
    if cls.ablations:
        record["ablation"] = {a: _metrics(evaluate_network(cls, arch, net, samples, a)) for a in cls.ablations}
    return record


def revalidate(config: TrainConfig, log: Callable[[str], None] = print) -> dict:
    """Re-run the validation of the weights ``config.out`` under today's evaluation protocol and
    rewrite the ``validation`` section of their card (the training record stays as it was): how the
    cards of shipped weights get the groups a later protocol adds."""
    cls, _ = _model_class(config.model)
    weights = Path(config.out)
    card_path = model_card_path(weights)
    if not weights.is_file() or not card_path.is_file():
        raise InputMissingError(f"--revalidate: {weights} and its model card {card_path.name} must exist")
    card = json.loads(card_path.read_text())
    net = cls.build_net(**card["arch"])
    net.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True))
    net.eval()
    val_paths = split(list_hdr_images(config.data))[1]
    if [p.name for p in val_paths] != card["data"]["validation_images"]:
        raise UsageError(f"{config.data}: its validation images are not those of {card_path.name}")
    card["validation"] = validation_record(cls, card["arch"], net, validation_samples(cls, val_paths),
                                           task_baselines(cls, config), card["validation"]["step_0"])
    card_path.write_text(json.dumps(card, indent=2) + "\n")
    log(f"{cls.name}: {_validation_summary(cls, card['validation'])}; wrote {card_path}")
    return card


def validation_samples(cls: type[LearnedModel], paths: list[Path]) -> list:
    """The validation samples of a model's task: ITM images, or alternating-exposure clips with the
    model's number of exposures."""
    if cls.task == "alt-exp":
        return samples_for(cls.task, paths, "clips", cls.exposures)
    return samples_for(cls.task, paths, "images")


def task_baselines(cls: type[LearnedModel], config: TrainConfig) -> tuple[str, ...]:
    """The baselines of ``config`` that convert what the model converts (its task)."""
    return tuple(b for b in config.baselines if registry.get(b).task == cls.task)


def _validation_summary(cls: type[LearnedModel], validation: dict) -> str:
    metric = sampler_for(cls).metric
    line = f"validation {metric} {validation['final'][metric]['mean']:.2f} dB in-family"
    held_out = validation["held_out"][cls.name]["mean"]
    line += f", {held_out[metric]:.2f} dB held-out" if held_out else ""
    return line + "".join(f", {a} alone {m[metric]['mean']:.2f} dB" for a, m in validation.get("ablation", {}).items())


def _synthesise_batch(sampler: Sampler, scenes, rng: np.random.Generator, config: TrainConfig, cls):
    # patch-sized tensor ops are too small to share among threads: with torch's thread pool on a busy
    # CPU, synthesis of a batch took 0.3 s instead of 0.05 s on one thread; the network keeps them all
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return sampler.draw(scenes, rng, config, cls)
    finally:
        torch.set_num_threads(threads)


def _load_init(path: str, net: torch.nn.Module) -> dict | None:
    """Load starting weights into ``net``; return the ``training`` record of their card, if any."""
    weights = Path(path)
    if not weights.is_file():
        raise InputMissingError(f"--init: no such weights file: {weights}")
    try:
        net.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True))
    except (RuntimeError, KeyError, pickle.UnpicklingError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise UsageError(f"--init {weights}: not weights of this architecture ({first})") from None
    card = model_card_path(weights)
    return json.loads(card.read_text())["training"] if card.is_file() else None


def _save_checkpoint(path: Path, net, opt, step: int, elapsed: float, rng: np.random.Generator,
                     initial: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    torch.save({"net": net.state_dict(), "opt": opt.state_dict(), "step": step, "elapsed": elapsed,
                "numpy_rng": json.dumps(rng.bit_generator.state), "torch_rng": torch.get_rng_state(),
                "initial_metrics": json.dumps(initial)}, tmp)
    os.replace(tmp, path)


def train(config: TrainConfig, resume: bool = False, force: bool = False,
          log: Callable[[str], None] = print) -> dict:
    """Train, write ``config.out`` and its model card, return the card. With ``resume``, continue
    from ``OUT.ckpt`` until the budget of ``config`` is spent. An existing ``OUT`` is replaced only
    when resuming or with ``force``."""
    config.check()
    cls, sampler = _model_class(config.model)
    out = Path(config.out)
    if not out.parent.is_dir():
        raise OutputError(f"output folder does not exist: {out.parent}")
    ckpt_path = out.with_suffix(".ckpt")
    card_path = model_card_path(out)
    if out.exists() and not (resume or force):
        raise OutputError(f"{out} exists (--force to replace it, --resume to continue its training)")
    if resume and not ckpt_path.exists():
        raise InputMissingError(f"nothing to resume: {ckpt_path} does not exist")

    arch = {**cls.default_arch, **config.arch}
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    try:
        net = cls.build_net(**arch)
    except TypeError as e:
        raise UsageError(f"bad --arch for {cls.name}: {e}") from None
    opt = torch.optim.AdamW(net.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    loss_fn = LOSSES[config.loss]

    paths = list_hdr_images(config.data)
    train_paths, val_paths = split(paths)
    if not train_paths or not val_paths:
        raise UsageError(f"{config.data}: need at least 2 HDR images (training and validation)")
    log(f"data: {len(train_paths)} training, {len(val_paths)} validation images from {config.data}"
        + (f", {config.graphics} graphics scenes" if config.graphics else ""))
    scenes = load_scenes(train_paths, TRAINING_MAX_SIZE) + graphics_scenes(config.graphics, config.seed)
    val_samples = validation_samples(cls, val_paths)
    baselines = task_baselines(cls, config)

    init_training = _load_init(config.init, net) if config.init else None
    step, elapsed = 0, 0.0
    if resume:
        ck = torch.load(ckpt_path, map_location="cpu", weights_only=True)
        net.load_state_dict(ck["net"])
        opt.load_state_dict(ck["opt"])
        step, elapsed = int(ck["step"]), float(ck["elapsed"])
        rng.bit_generator.state = json.loads(ck["numpy_rng"])
        torch.set_rng_state(ck["torch_rng"])
        initial = json.loads(ck["initial_metrics"])
        log(f"resumed from {ckpt_path} at step {step} ({elapsed:.0f} s)")
    else:
        initial = _metrics(evaluate_network(cls, arch, net, _in_family(val_samples)))
        log(f"step 0: validation {sampler.metric} {initial[sampler.metric]['mean']:.2f} dB")

    def progress() -> float:
        p = 0.0
        if config.steps is not None:
            p = max(p, step / config.steps)
        if config.minutes is not None:
            p = max(p, elapsed / (60 * config.minutes))
        return p

    net.train()
    window_loss, window_start = [], time.perf_counter()
    while progress() < 1:
        t0 = time.perf_counter()
        lr = cosine_lr(config.lr, progress())
        for g in opt.param_groups:
            g["lr"] = lr
        inputs, target = _synthesise_batch(sampler, scenes, rng, config, cls)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=config.bf16):
            pred = net(*inputs) if isinstance(inputs, tuple) else net(inputs)
        loss = sampler.objective(pred, target, loss_fn) if sampler.objective else loss_fn(pred.float(), target)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        elapsed += time.perf_counter() - t0
        window_loss.append(loss.item())
        if step % config.checkpoint_every == 0:
            _save_checkpoint(ckpt_path, net, opt, step, elapsed, rng, initial)
        if step % config.log_every == 0:
            rate = len(window_loss) / (time.perf_counter() - window_start)
            log(f"step {step}: loss {np.mean(window_loss):.5f} lr {lr:.2e} {rate:.2f} steps/s "
                f"elapsed {elapsed:.0f} s")
            window_loss, window_start = [], time.perf_counter()
    _save_checkpoint(ckpt_path, net, opt, step, elapsed, rng, initial)
    net.eval()

    validation = validation_record(cls, arch, net, val_samples, baselines, initial)
    log(f"step {step}: {_validation_summary(cls, validation)} "
        f"(step 0: {initial[sampler.metric]['mean']:.2f} dB in-family)")
    torch.save(net.state_dict(), out)
    card = {
        "name": cls.name,
        "task": cls.task,
        "arch": arch,
        "params": sum(p.numel() for p in net.parameters()),
        "weights": out.name,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "training": {**{k: v for k, v in asdict(config).items()
                        if k not in ("model", "data", "out", "arch", "tone_mappers", "capture")},
                     "steps_done": step, "wall_time_s": round(elapsed, 1), "optimizer": "AdamW",
                     "schedule": f"cosine to {FINAL_LR_FRACTION} x lr over the budget",
                     "augmentation": "random crop, horizontal/vertical flips, rot90",
                     "network_domain": sampler.domain,
                     **({"init_training": init_training} if init_training else {})},
        "data": {"folder": str(Path(config.data).resolve()), "training_images": [p.name for p in train_paths],
                 "validation_images": [p.name for p in val_paths], "manifest_sha256": manifest_hash(paths)},
        "synthesis": {**synthesis_settings(config.tone_mappers, cls.task, config.capture),
                      **({"video_clips": video_clip_settings()} if sampler.draw is samplers.video_itm_batch else {})},
        "machine": machine(),
        "validation": validation,
    }
    card_path.write_text(json.dumps(card, indent=2) + "\n")
    log(f"wrote {out} and {card_path}")
    return card
