"""The settings of a training run (``hdrconv train`` options), kept free of heavy imports so that the
command line can show the defaults without loading torch."""

from __future__ import annotations

from dataclasses import dataclass, field

from hdrconv.data.family import TONE_MAPPERS
from hdrconv.errors import UsageError

BASELINES = ("bt2408", "bt2446a", "bt2446c", "merge")
"""Analytic models whose validation metrics go into the model cards: each card gets those of its task
(:func:`hdrconv.train.loop.task_baselines`; ``merge`` for alt-exp models)."""



@dataclass
class TrainConfig:
    """Everything that defines a training run (recorded in the model card)."""

    model: str
    data: str
    out: str
    steps: int | None = None
    minutes: float | None = None
    batch_size: int = 16
    patch: int = 96
    lr: float = 5e-4
    weight_decay: float = 1e-4
    loss: str = "l1"
    seed: int = 0
    log_every: int = 50
    checkpoint_every: int = 500
    graphics: int = 0
    """Procedural graphics scenes added to the training images (:func:`hdrconv.data.scenes.graphics_scenes`)."""
    tone_mappers: tuple[str, ...] = TONE_MAPPERS
    """The SDR tone-mapper family drawn from (:mod:`hdrconv.data.synthesis`)."""
    capture: str = "realistic"
    """How alternating-exposure clips are captured (:data:`hdrconv.train.samplers.CAPTURES`)."""
    init: str | None = None
    """Weights to start from instead of random ones (fine-tuning a shipped or earlier model)."""
    bf16: bool = False
    """Compute forward/backward in bfloat16 (autocast); weights and optimiser stay float32."""
    arch: dict = field(default_factory=dict)
    baselines: tuple[str, ...] = BASELINES

    def check(self) -> None:
        from hdrconv.train.losses import LOSSES

        if self.steps is None and self.minutes is None:
            raise UsageError("give a training budget: --steps and/or --minutes")
        if (self.steps is not None and self.steps < 1) or (self.minutes is not None and self.minutes <= 0):
            raise UsageError("the training budget must be positive")
        if self.loss not in LOSSES:
            raise UsageError(f"unknown loss {self.loss!r} (available: {', '.join(LOSSES)})")
        if self.batch_size < 1 or self.patch < 16:
            raise UsageError("batch size must be >= 1 and the patch >= 16 pixels")
        unknown = set(self.tone_mappers) - set(TONE_MAPPERS)
        if not self.tone_mappers or unknown:
            raise UsageError(f"--tone-mappers: choose from {', '.join(TONE_MAPPERS)}"
                             + (f" (unknown: {', '.join(sorted(unknown))})" if unknown else ""))
        from hdrconv.train.samplers import CAPTURES

        if self.capture not in CAPTURES:
            raise UsageError(f"--capture: choose from {', '.join(CAPTURES)}")
        if self.graphics < 0:
            raise UsageError("--graphics must be >= 0")
        if self.log_every < 1 or self.checkpoint_every < 1:
            raise UsageError("--log-every and --checkpoint-every must be >= 1")
