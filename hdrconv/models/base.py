"""The one interface every model implements, analytic or learned, per-frame or temporal.

The pipeline hands a model its video in windows (:class:`Window`, cut by the one window loop of
:mod:`hdrconv.pipeline.windows`): ``window`` consecutive *target* frames to convert (fewer at the end
of the stream), with ``context = (past, future)`` frames before and after them that the model sees but
does not output (a model that needs t-1 and t+1 to make t). Consecutive windows' targets follow each
other, so their contexts overlap; both ends of the stream are mirror-padded, so that every target has
its whole context. The loop calls ``model.process_window(window, state)`` for each window in order,
threading ``state`` from one call to the next (temporal feature/clue propagation, smoothed per-frame
parameters, ...); the first call gets ``model.initial_state()``. The model returns exactly one HDR
frame per target, in order (the loop checks). Memory is bounded by the window and its context, not
by the video.

Most models need the pixels only: they implement ``process(frames, state)``, which the default
``process_window`` calls with the window's frames stacked, context included (``frames[past:T - future]`` are the
targets). A model that needs what else the window knows (each frame's exposure, the scene cuts, the
timestamps) overrides ``process_window``. ``process`` stays the plain entry point because callers
with a tensor of frames (tests, the training loop) and every existing model use it as it is.

``temporal`` says whether a model carries state from one window to the next: a caller that starts in
the middle of a video (``hdrconv preview``) then runs it over the frames before, as a conversion does.

Domains (fixed for every model, so the pipeline and the encoder need no per-model cases):

- input ``frames``: ``(T, 3, H, W)`` float32 tensor of non-linear R'G'B' in [0, 1], BT.709 primaries,
  as decoded from SDR video (BT.1886 display-referred: 1.0 is SDR peak white);
- output: ``(targets, 3, H * scale, W * scale)`` float32 tensor of *linear* BT.2020 RGB in absolute
  cd/m2 (SDR reference white is 203 cd/m2, see :mod:`hdrconv.color.conventions`).

For alternating-exposure models (``task = "alt-exp"``) the input frames are the differently exposed
frames, in order, with the camera response replaced by gamma 2.2 (``F^-1(I) ** (1 / 2.2)``,
:data:`~hdrconv.color.conventions.ALT_EXP_GAMMA`), and :attr:`Window.exposures` gives each one's
exposure in stops; their output is linear BT.709 *scene* radiance in units of the EV 0 clipping level
(a frame exposed at EV 0 clips at 1.0), which ``hdrconv alt-exp`` places in cd/m2 for HDR10
(:mod:`hdrconv.pipeline.altexp`) and writes to EXR as it is.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

import torch

from hdrconv.color.conventions import PQ_PEAK_NITS
from hdrconv.color.transfer import eotf_ST2084
from hdrconv.errors import UsageError
from hdrconv.models.engine import TiledInference


@dataclass
class Window:
    """One call's worth of frames and what is known of each (see the module docstring)."""

    frames: tuple[torch.Tensor, ...]
    """The ``T`` input frames, ``(3, H, W)`` each, context included, on the model's device: the frames
    the loop holds, not a copy (:meth:`stacked` makes the batch). A 4K window of merge's context
    stacked is 475 MiB, 0.47 of the 2.96 GiB peak RSS of ``hdrconv alt-exp`` on a 4K clip."""
    targets: slice
    """The frames to convert, ``frames[targets]``; the others are context."""
    indices: tuple[int, ...]
    """Stream index of each frame; a padding frame has the index of the frame it mirrors."""
    exposures: tuple[float | None, ...]
    """Each frame's exposure in stops where the input says (alternating-exposure clips), else None."""
    cuts: tuple[bool, ...]
    """True where a frame starts a new shot (the stream's first frame does)."""
    timestamps: tuple[Any, ...]
    """Each frame's timestamp as the caller has it (the decoder's pts, a clip's frame number)."""

    @property
    def target_count(self) -> int:
        return len(self.indices[self.targets])

    def stacked(self, part: slice = slice(None)) -> torch.Tensor:
        """``frames[part]`` as one ``(T', 3, H, W)`` tensor (one frame without a copy)."""
        frames = self.frames[part]
        return frames[0].unsqueeze(0) if len(frames) == 1 else torch.stack(frames)


class Model(ABC):
    """Base class of every hdrconv model."""

    name: ClassVar[str]
    """CLI name (``--model NAME``)."""
    task: ClassVar[str] = "itm"
    """``"itm"`` (SDR -> HDR10) or ``"alt-exp"`` (alternating exposures -> HDR10)."""
    kind: ClassVar[str] = "analytic"
    """``"analytic"`` (a formula) or ``"learned"`` (weights trained by ``hdrconv train``)."""
    window: ClassVar[int] = 1
    """Target frames per window the pipeline hands over."""
    context: ClassVar[tuple[int, int]] = (0, 0)
    """``(past, future)``: frames before and after the targets a window carries as context."""
    temporal: ClassVar[bool] = False
    """Whether the model carries state from one window to the next."""
    scale: int = 1
    """Spatial upscaling factor of the output (joint SR-ITM); a learned model takes it from its
    architecture arguments, so it belongs to the instance."""
    summary: ClassVar[str] = ""
    """One line for ``hdrconv models``."""
    peak_nits: ClassVar[float] = PQ_PEAK_NITS
    """The most light the model's output can hold, cd/m2 (max(R, G, B) of any pixel): the source peak
    from which the conversion rolls highlights off to the mastering display's. A model with no bound
    keeps the PQ range's."""

    device: torch.device = torch.device("cpu")

    def to(self, device: torch.device | str) -> "Model":
        self.device = torch.device(device)
        return self

    def initial_state(self) -> Any:
        """State handed to the first window (``None`` for per-frame models)."""
        return None

    @abstractmethod
    def process(self, frames: torch.Tensor, state: Any) -> tuple[torch.Tensor, Any]:
        """Convert one window's frames (context included); return the HDR frames of its targets and
        the state for the next window."""

    def process_window(self, window: Window, state: Any) -> tuple[torch.Tensor, Any]:
        """Convert one :class:`Window`: :meth:`process` of its frames, unless the model needs more."""
        return self.process(window.stacked(), state)

    def parameters_count(self) -> int:
        """Number of learned parameters (0 for analytic models)."""
        return 0

    def weights(self) -> str | None:
        """Path of the weights file, ``None`` for analytic models."""
        return None

    def info(self) -> dict:
        """What ``hdrconv models`` reports."""
        return {"name": self.name, "task": self.task, "kind": self.kind, "window": self.window,
                "scale": self.scale, "params": self.parameters_count(), "weights": self.weights(),
                "summary": self.summary}


WEIGHTS_DIR = __import__("pathlib").Path(__file__).resolve().parent.parent / "weights"
"""Weights shipped inside the package: ``NAME.pt`` (a state dict, loaded with ``weights_only=True`` so
that loading never executes code) and ``NAME.json`` (the model card) beside it; ``NAME-x2.pt`` and
``NAME-x2.json`` for the same network at output scale 2 (:func:`weights_path`)."""


def weights_path(name: str, scale: int = 1):
    """The shipped weights of model ``name`` at output ``scale``: ``NAME.pt``, ``NAME-xS.pt``."""
    return WEIGHTS_DIR / (f"{name}.pt" if scale == 1 else f"{name}-x{scale}.pt")


def model_card_path(weights):
    """Where the model card of a weights file lies: beside it, same name, ``.json``."""
    return weights.with_suffix(".json")


class LearnedModel(Model):
    """A model whose network was trained by ``hdrconv train``.

    Subclasses set ``name``, ``summary``, ``window`` and implement :meth:`build_net`. The network maps
    ``(N, 3, h, w)`` BT.709 R'G'B' in [0, 1] to ``(N, 3, h * scale, w * scale)`` PQ-coded BT.2020 R'G'B'
    in [0, 1] (the HDRTV convention of the papers); :meth:`process` turns that into cd/m2. ``scale``
    is the architecture argument ``scale`` (1 for a network that has none).
    """

    kind: ClassVar[str] = "learned"
    default_arch: ClassVar[dict] = {}
    """Constructor arguments of the network as shipped (the paper's defaults)."""
    tileable: ClassVar[bool] = True
    """Whether the network may run tile by tile (:class:`~hdrconv.models.engine.TiledInference`).
    A recurrent network whose state covers the whole frame sets it to False and gets whole frames."""
    ablations: ClassVar[tuple[str, ...]] = ()
    """Parts of the network that the validation of ``hdrconv train`` also scores alone (the model
    card's ``validation.ablation``); a model whose :attr:`ablation` is set to one outputs that part."""
    ablation: str | None = None

    def __init__(self, weights: str | None = None, **arch):
        import json
        from pathlib import Path

        # the shipped weights are found by the scale the arguments ask for; the card beside them
        # (or beside the given weights) completes the arguments
        scale = int({**self.default_arch, **arch}.get("scale", 1))
        self._weights = Path(weights) if weights else weights_path(self.name, scale)
        card = model_card_path(self._weights)
        self.card = json.loads(card.read_text()) if card.exists() else None
        args = dict(self.default_arch)
        if self.card:
            args.update(self.card.get("arch", {}))
        args.update(arch)
        self.arch = args
        self.scale = int(args.get("scale", 1))
        self.net = self.build_net(**args)
        if self._weights.exists():
            self.net.load_state_dict(torch.load(self._weights, map_location="cpu", weights_only=True))
        self.net.eval().to(memory_format=torch.channels_last)
        self.engine = TiledInference()
        """Runs :attr:`net` on the frames; the pipeline may set its ``tile`` (memory vs. speed)."""

    @classmethod
    def build_net(cls, **arch) -> torch.nn.Module:
        raise NotImplementedError

    @property
    def trained(self) -> bool:
        return self._weights.exists()

    def require_trained(self) -> None:
        """Raise :class:`~hdrconv.errors.UsageError` unless trained weights were loaded: an untrained
        network produces garbage, so it must never run as if it worked."""
        if not self.trained:
            raise UsageError(f"model {self.name} has no trained weights ({self._weights} is missing); "
                             f"train it with `hdrconv train {self.name}`")

    def to(self, device):
        super().to(device)
        self.net.to(self.device)
        self.engine.device = self.device
        return self

    def process(self, frames: torch.Tensor, state: Any) -> tuple[torch.Tensor, Any]:
        """Run the network (tile by tile when :attr:`tileable`, :class:`~hdrconv.models.engine.TiledInference`)
        and decode its PQ output (SMPTE ST 2084) to cd/m2."""
        self.require_trained()
        pq = self.engine(self.net, frames, scale=self.scale, tiled=self.tileable)
        return eotf_ST2084(pq.clamp_(0, 1)), state

    def parameters_count(self) -> int:
        return sum(p.numel() for p in self.net.parameters())

    def weights(self) -> str | None:
        return str(self._weights) if self.trained else None
