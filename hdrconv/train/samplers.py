"""Training samplers: how ``hdrconv train`` draws a batch for a task.

The training loop takes its batches from ``SAMPLERS[model.task]`` (:class:`Sampler`); a model of
another task (clips with known warps, alternating-exposure clips with their exposures, low- and
high-resolution pairs) comes with its sampler here, and the loop stays as it is.

- **Patches** (``"itm"``, :func:`itm_batch`, per-frame ITM): random crops of the training scenes with
  random flips / rot90, graded with the randomised anchor of :mod:`hdrconv.data.grading` and turned
  into SDR with a random recipe of :mod:`hdrconv.data.synthesis`: pairs (BT.709 R'G'B' 8-bit SDR, PQ
  BT.2020 R'G'B' HDR10).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from hdrconv.color.transfer import eotf_inverse_ST2084
from hdrconv.data.family import TONE_MAPPERS
from hdrconv.data.grading import expose, grade_HDR10, random_exposure_stops
from hdrconv.data.scenes import Scene
from hdrconv.data.synthesis import random_recipe, synthesize_SDR
from hdrconv.errors import InputDataError
from hdrconv.train.config import TrainConfig


def _augment(x: torch.Tensor, rng: np.random.Generator) -> torch.Tensor:
    if rng.random() < 0.5:
        x = x.flip(-1)
    if rng.random() < 0.5:
        x = x.flip(-2)
    return torch.rot90(x, int(rng.integers(4)), dims=(-2, -1))


def itm_sample(scene: Scene, rng: np.random.Generator, patch: int,
               tone_mappers: tuple[str, ...] = TONE_MAPPERS) -> tuple[torch.Tensor, torch.Tensor]:
    """One training pair from a random ``patch`` x ``patch`` crop of ``scene``, its SDR made by one of
    ``tone_mappers``: (SDR BT.709 R'G'B', HDR10 PQ BT.2020 R'G'B'), both ``(3, patch, patch)`` in [0, 1]."""
    _, H, W = scene.image.shape
    if min(H, W) < patch:
        raise InputDataError(f"{scene.name}: {W}x{H} is smaller than the {patch}-pixel training patch")
    y, x = int(rng.integers(H - patch + 1)), int(rng.integers(W - patch + 1))
    crop = _augment(scene.image[:, y:y + patch, x:x + patch], rng)
    stops = random_exposure_stops(rng)
    relative = expose(crop, scene.key, stops)
    nits = grade_HDR10(relative, scene.source_peak(stops))
    sdr = synthesize_SDR(relative, nits, random_recipe(rng, tone_mappers))
    return sdr, eotf_inverse_ST2084(nits)


def itm_batch(scenes: list[Scene], rng: np.random.Generator, batch: int, patch: int,
              tone_mappers: tuple[str, ...] = TONE_MAPPERS) -> tuple[torch.Tensor, torch.Tensor]:
    """``batch`` training pairs from scenes drawn uniformly: ``(batch, 3, patch, patch)`` each."""
    pairs = [itm_sample(scenes[int(rng.integers(len(scenes)))], rng, patch, tone_mappers) for _ in range(batch)]
    return torch.stack([p[0] for p in pairs]), torch.stack([p[1] for p in pairs])


def patch_batch(scenes: list[Scene], rng: np.random.Generator, config: TrainConfig
                ) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`itm_batch` with the batch size, patch size and tone mappers of ``config``."""
    return itm_batch(scenes, rng, config.batch_size, config.patch, config.tone_mappers)


@dataclass(frozen=True)
class Sampler:
    """How batches are drawn for one task, and for which models they are made."""

    draw: Callable[[list[Scene], np.random.Generator, TrainConfig], tuple[torch.Tensor, torch.Tensor]]
    """(training scenes, data generator, configuration) -> (network input, target) batch; all its
    randomness from the generator, so that a resumed run continues the same sample stream."""
    what: str
    """What a batch holds, for messages."""
    window: int = 1
    """Frames per output frame the samples carry (the model's ``window``)."""
    scale: int = 1
    """Output to input size ratio of the samples (the model's ``scale``)."""


SAMPLERS: dict[str, Sampler] = {"itm": Sampler(patch_batch, "single-frame patches")}
"""The sampler of each task ``hdrconv train`` trains."""
