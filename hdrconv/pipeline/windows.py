"""The one window loop: how the conversion, ``hdrconv preview``, evaluation and validation hand a
stream of frames to a model (the benchmarks go through these).

:func:`windows` cuts the stream into :class:`~hdrconv.models.base.Window` objects of ``size`` target
frames (fewer at the end) with ``context = (past, future)`` frames around them; consecutive windows'
targets follow each other, so every frame is the target of exactly one window, and their contexts
overlap. Both ends are padded by mirroring (:func:`source_index`): frame -1 is frame 1, frame -2
frame 2, frame n frame n - 2. A padding frame is its source frame, with its exposure, cut flag and
timestamp, and its index in :attr:`Window.indices`.

The loop streams: it reads its input lazily, hands a window over as soon as its last context frame
is read (the end of the stream flushes the rest) and keeps only the frames a later window still
needs, at most ``past + size + future`` of them, so memory is bounded by the window and its context,
never by the length of the stream. :func:`run` threads the model's state through the windows and
checks that it returns exactly one frame per target: a model that returned fewer would otherwise
drop frames silently.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Iterator

import torch

from hdrconv.models.base import Model, Window

__all__ = ["Frame", "Window", "run", "source_index", "windows"]


@dataclass
class Frame:
    """One frame of the input stream and what the caller knows of it."""

    rgb: torch.Tensor
    """``(3, H, W)`` model input (:mod:`hdrconv.models.base`)."""
    timestamp: Any = None
    """Handed back with the frame's output (the decoder's pts, a clip's frame number)."""
    exposure: float | None = None
    """Exposure in stops, where the input says (alternating-exposure clips)."""
    cut: bool = False
    """The frame starts a new shot."""


def source_index(i: int, n: int | None) -> int:
    """The frame shown at position ``i`` of a stream of ``n`` frames (``None``: not yet known, longer
    than ``i``) padded by mirroring; a stream shorter than the padding reflects as far as it goes, then
    repeats its far edge."""
    if i < 0:
        return -i if n is None else min(-i, n - 1)
    if n is not None and i >= n:
        return max(2 * (n - 1) - i, 0)
    return i


def _window(buffer: dict[int, Frame], start: int, end: int, context: tuple[int, int], n: int | None,
            device: torch.device | None) -> Window:
    past, future = context
    indices = tuple(source_index(i, n) for i in range(start - past, end + future))
    frames = [buffer[j] for j in indices]
    rgb = tuple(f.rgb if device is None else f.rgb.to(device) for f in frames)
    return Window(rgb, slice(past, past + end - start), indices, tuple(f.exposure for f in frames),
                  tuple(f.cut or j == 0 for f, j in zip(frames, indices)), tuple(f.timestamp for f in frames))


def _forget(buffer: dict[int, Frame], start: int, read: int, context: tuple[int, int]) -> None:
    """Drop the frames no window from ``start`` on needs: those windows show frames from
    ``start - past`` on, and mirror at most ``future`` frames back from the stream's last frame, which
    may be the last one read."""
    past, future = context
    for i in [i for i in buffer if i < min(start - past, read - 1 - future)]:
        del buffer[i]


def windows(stream: Iterable[Frame], size: int = 1, context: tuple[int, int] = (0, 0),
            device: torch.device | None = None, first: int = 0) -> Iterator[Window]:
    """The windows of ``stream`` (see the module docstring), their frames moved to ``device``; the
    targets start at frame ``first`` (the frames before it are context only)."""
    past, future = context
    if size < 1 or past < 0 or future < 0 or first < 0:
        raise ValueError(f"window of {size} frames with context {context} from frame {first}: "
                         "need size >= 1, context and first >= 0")
    source = iter(stream)
    buffer: dict[int, Frame] = {}
    read, start, ended = 0, first, False
    while True:
        end = start + size
        # the last frame the window shows: its last future frame, or the mirror image of its first past one
        while not ended and read <= max(end + future - 1, past - start):
            frame = next(source, None)
            if frame is None:
                ended = True
            else:
                buffer[read] = frame
                read += 1
                _forget(buffer, start, read, context)
        if ended:
            end = min(end, read)
            if start >= end:
                return
        yield _window(buffer, start, end, context, read if ended else None, device)
        start = end
        _forget(buffer, start, read, context)


def run(model: Model, stream: Iterable[Frame], first: int = 0) -> Iterator[tuple[Window, torch.Tensor]]:
    """Run ``model`` over ``stream`` window by window, threading its state from
    ``model.initial_state()``; yield each window and the model's HDR frames for its targets, from
    frame ``first`` on."""
    state = model.initial_state()
    for window in windows(stream, model.window, model.context, model.device, first):
        hdr, state = model.process_window(window, state)
        if hdr.shape[0] != window.target_count:
            raise RuntimeError(f"model {model.name} returned {hdr.shape[0]} frames for a window of "
                               f"{window.target_count} target frames")
        yield window, hdr
        # let go of this window and its output before the next is made: on a GPU the window's frames are
        # copies (5 x 100 MB for a 4K frame with merge's context), and both windows' would be held at once
        del window, hdr
