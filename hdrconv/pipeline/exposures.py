"""Which frame of an alternating-exposure clip has which exposure: ``--ev`` as given, or estimated.

The estimate (:func:`estimate`) reads the first :data:`ESTIMATE_FRAMES` frames, thinned to
:data:`SAMPLES` pixels per side of an estimate pixel, linearised with the camera response and shrunk
to :data:`ESTIMATE_SIZE` pixels (which averages noise and most of the motion away). For each pair of
consecutive frames, the exposure step is the median over co-located pixels well exposed in both
(:data:`WELL_EXPOSED` code values) of ``log2(L[i+1] / L[i])``: an exposure change scales every pixel
alike, and motion moves a minority of them. The steps of a cycle of ``P`` frames repeat with period
``P``; the smallest ``P`` whose steps repeat within :data:`STEP_TOLERANCE` and add up to zero over a
cycle is the cycle. Its first frame is the darkest (the ``{EV-2, EV0, EV+2}`` order of cameras), and
its levels are placed so that EV 0 lies midway between the darkest and the brightest: that is the
reference exposure of the output levels.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable

import numpy as np

from hdrconv.errors import InputDataError, UsageError

if TYPE_CHECKING:  # the estimate imports them: --ev is checked before torch loads
    import torch

    from hdrconv.color.crf import CameraResponse

ESTIMATE_FRAMES = 25
"""Frames read for the estimate: a cycle of ``P`` frames shows each of its steps twice in ``2P + 1``
frames, so 25 find cycles of up to 12."""
ESTIMATE_SIZE = 48
"""Longest side of the frames the estimate compares."""
SAMPLES = 8
"""Pixels per side of an estimate pixel that the estimate looks at: a 1080p frame is thinned to every
5th pixel of every 5th row before it is linearised. On the 25 frames of bench/alt_exp.py's 1080p
2-exposure clip the steps took 2.52 s with every pixel and 0.09 s thinned (the whole estimate, with
decoding, 3.47 -> 2.00 s), and differ by at most 0.011 stops: 64 samples still average the noise of
an estimate pixel, and clipped ones are still left out one by one."""
WELL_EXPOSED = (0.02, 0.92)
"""Code values (the camera's signal) that are neither lost in noise and quantisation (8-bit code 10)
nor near clipping."""
STEP_TOLERANCE = 0.3
"""Stops: how far a step may stray from its cycle position's median, and the cycle's steps from
summing to zero."""
LEVEL_SEPARATION = 0.5
"""Stops: exposures closer than this are one exposure (a step smaller than this is no change)."""
AGREEMENT = 0.8
"""Fraction of the steps that must lie within :data:`STEP_TOLERANCE` of their cycle position's."""
MIN_PIXELS = 16
"""Co-located well-exposed pixels a step needs (also at least 1 % of the frame)."""


@dataclass(frozen=True)
class ExposureCycle:
    """The exposure of each frame: frame ``i`` has ``stops[(i - phase) % len(stops)]``."""

    stops: tuple[float, ...]
    """The cycle in stops, from its first frame."""
    phase: int
    """Index in the file of the first frame of the first whole cycle."""
    source: str
    """``"--ev"`` or ``"estimated"``."""

    def __post_init__(self):
        if not self.stops:
            raise ValueError("an exposure cycle needs at least one exposure")

    def stop(self, index: int) -> float:
        return self.stops[(index - self.phase) % len(self.stops)]

    @property
    def exposures(self) -> int:
        """Number of distinct exposures."""
        return len(_levels(self.stops))

    def as_dict(self) -> dict:
        return {"ev": list(self.stops), "phase": self.phase, "source": self.source,
                "exposures": self.exposures}


def _levels(stops: Iterable[float]) -> list[float]:
    levels: list[float] = []
    for s in sorted(stops):
        if not levels or s - levels[-1] >= LEVEL_SEPARATION:
            levels.append(s)
    return levels


def parse_ev(text: str) -> tuple[float, ...]:
    """``--ev=-2,0,2``: the cycle in stops, in file order."""
    try:
        stops = tuple(float(t) for t in text.split(","))
    except ValueError:
        raise UsageError(f"--ev {text}: want the cycle in stops, comma-separated, e.g. --ev=-2,2") from None
    if len(stops) < 2 or not all(np.isfinite(stops)) or max(stops) - min(stops) < LEVEL_SEPARATION:
        raise UsageError(f"--ev {text}: a cycle of at least two frames whose exposures differ "
                         f"(by {LEVEL_SEPARATION} stop or more), e.g. --ev=-2,2")
    if max(abs(s) for s in stops) > 12:
        raise UsageError(f"--ev {text}: exposures beyond +-12 stops")
    return stops


def given(stops: tuple[float, ...], frames: int | None, exposures: int | None) -> ExposureCycle:
    """The cycle of ``--ev``, checked against ``--exposures`` and the clip's length (when known)."""
    cycle = ExposureCycle(stops, 0, "--ev")
    if exposures is not None and cycle.exposures != exposures:
        raise UsageError(f"--ev {','.join(f'{s:g}' for s in stops)} has {cycle.exposures} distinct "
                         f"exposures, --exposures says {exposures}")
    if frames is not None and frames < len(stops):
        raise InputDataError(f"{frames} frame(s), fewer than one exposure cycle of {len(stops)}")
    return cycle


def _shrink(x: np.ndarray) -> np.ndarray:
    """``(H, W)`` -> area-averaged to a longest side of :data:`ESTIMATE_SIZE`."""
    import cv2

    h, w = x.shape
    f = ESTIMATE_SIZE / max(h, w)
    if f >= 1:
        return x
    return cv2.resize(x, (max(1, round(w * f)), max(1, round(h * f))), interpolation=cv2.INTER_AREA)


def _thin(V: torch.Tensor) -> torch.Tensor:
    """``(3, H, W)`` -> every ``k``-th pixel of every ``k``-th row, ``k`` the largest step that leaves
    :data:`SAMPLES` per side of an estimate pixel (1: small frames stay whole)."""
    k = max(1, max(V.shape[-2:]) // (ESTIMATE_SIZE * SAMPLES))
    return V[:, ::k, ::k]


def steps(frames: Iterable[torch.Tensor], crf: CameraResponse) -> np.ndarray:
    """Exposure step in stops from each frame to the next (NaN where too few pixels are well exposed
    in both)."""
    out, prev = [], None
    for V in frames:
        V = _thin(V).float().cpu().contiguous()
        lin = crf.to_linear(V).mean(0).numpy()
        ok = ((V >= WELL_EXPOSED[0]) & (V <= WELL_EXPOSED[1])).all(0).numpy()
        if prev is not None:
            # both frames averaged over the same well-exposed pixels: shrinking averages motion away,
            # and no clipped pixel biases either side (one did by 0.2 stops on the 4-stop test clips)
            both = ok & prev[1]
            share = _shrink(both.astype(np.float32))
            a, b = (_shrink(np.where(both, x, 0).astype(np.float32)) for x in (prev[0], lin))
            use = (share > 0.5) & (a > 0) & (b > 0)
            if use.sum() >= max(MIN_PIXELS, use.size // 200):
                out.append(float(np.median(np.log2(b[use] / a[use]))))
            else:
                out.append(float("nan"))
        prev = (lin, ok)
    return np.array(out)


def fit(d: np.ndarray, exposures: int | None) -> ExposureCycle:
    """The cycle the steps ``d`` repeat (module docstring); :class:`InputDataError` if none."""
    valid = d[np.isfinite(d)]
    if len(d) < 4:
        raise InputDataError(f"{len(d) + 1} frame(s): too few to estimate the exposure cycle (need 5); "
                             "give it with --ev")
    if len(valid) < len(d) / 2:
        raise InputDataError("too few well-exposed pixels shared by consecutive frames to estimate the "
                             "exposure cycle; give it with --ev")
    if np.all(np.abs(valid) < LEVEL_SEPARATION):
        raise InputDataError(f"exposure does not alternate: consecutive frames differ by at most "
                             f"{np.abs(valid).max():.2f} stops")
    for period in range(2, len(d) // 2 + 1):
        position = np.arange(len(d)) % period
        c = np.array([np.nanmedian(d[position == k]) if np.isfinite(d[position == k]).any() else np.nan
                      for k in range(period)])
        if not np.all(np.isfinite(c)) or abs(c.sum()) > STEP_TOLERANCE:
            continue
        # a cut or a fast movement spoils a step now and then; a wrong period spoils many
        off = np.abs(d - c[position])[np.isfinite(d)]
        if np.mean(off <= STEP_TOLERANCE) < AGREEMENT:
            continue
        relative = np.r_[0.0, np.cumsum(c[:-1])]  # stops of frames 0 .. period-1
        first = int(np.argmin(np.round(relative, 1)))
        ordered = np.roll(relative, -first)
        ordered -= (ordered.min() + ordered.max()) / 2
        cycle = ExposureCycle(tuple(round(float(s), 2) + 0.0 for s in ordered), first, "estimated")
        if exposures is not None and cycle.exposures != exposures:
            raise InputDataError(f"footage alternates {cycle.exposures} exposures "
                                 f"({', '.join(f'{s:+g}' for s in _levels(cycle.stops))} EV), "
                                 f"--exposures says {exposures}")
        return cycle
    raise InputDataError(f"exposure changes do not repeat in a cycle of 2 to {len(d) // 2} frames "
                         "(is it alternating-exposure footage?); give the cycle with --ev")


def estimate(frames: Iterable[torch.Tensor], crf: CameraResponse, exposures: int | None) -> ExposureCycle:
    """The cycle of a clip from its first frames' signals ``(3, H, W)`` in [0, 1]."""
    return fit(steps(frames, crf), exposures)
