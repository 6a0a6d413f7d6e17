"""``--model merge``: the non-learned alternating-exposure baseline (Kang et al. 2003 in outline), which
``hdrconv alt-exp`` users get without trained weights and the learned models must beat.

For each frame (the reference) and its two neighbours (:func:`partners`), whose exposures
:attr:`Window.exposures` gives:

1. each neighbour is aligned to the reference (:func:`hdrconv.models.alignment.locate` and
   :func:`~hdrconv.models.alignment.warp`: global similarity, then DIS optical flow, both on the
   exposure-matched frames, the flow at half resolution for 1080p);
2. every frame is turned into scene radiance, ``L ** 2.2 / 2 ** stops``, in units of the EV 0
   clipping level;
3. the radiances are averaged with Debevec & Malik's hat weights of their code values
   (:func:`hat_weight`; colour-science 0.4 has no HDRI module: that lives in the separate
   colour-hdri package, whose ``weighting_function_Debevec1997`` this follows), the reference's
   the brightest radiance of the frames that agree stands where no frame is well exposed (a lower
   bound where all clip);
4. a neighbour counts only where it agrees with the reference: both rendered at the brighter one's
   exposure and clipped as it clips, their code values must agree within :data:`GHOST_CODE` (fully)
   to twice that (not at all). Elsewhere it shows something else there
   (a moving object, a flow failure) and merging it would leave a ghost; the reference stays.

Output (the ``alt-exp`` model domain, :mod:`hdrconv.models.base`): linear BT.709 scene radiance of
the target frames in units of the EV 0 clipping level.
"""

from __future__ import annotations

from typing import Any, ClassVar, Sequence

import cv2
import numpy as np
import torch

from hdrconv.models import alignment
from hdrconv.models.base import Model, Window
from hdrconv.models.registry import register

HAT_DOMAIN = (0.01, 0.99)
"""Code values outside which a pixel carries no weight (Debevec & Malik 1997; colour-hdri's default)."""
FALLBACK_WEIGHT = 1e-3
"""Weight of the fallback where every frame is clipped or black (:func:`with_fallback`)."""
AGREES = 0.5
""":func:`agreement` above which a neighbour's radiance may raise the fallback (module docstring, step 3)."""
GHOST_CODE = 0.03
"""Code-value disagreement (of the mean of R, G, B at the brighter exposure; 3 x 3 mean, then 5 x 5 max)
from which a neighbour's weight falls, to zero at twice it. On the 2-exposure test clip
(tests/models/test_merge.py), PSNR-PQ of its EV+2 frames / EV-2 frames / the clip: 0.06 -> 35.6-37.8
/ 44.3-44.8 / 40.7 dB; 0.03 -> 31.6-37.7 / 44.9-45.4 / 40.6; 0.02 -> 26.7-37.3 / 45.4-45.6 / 39.7;
each frame alone: 20.4 / 45.7-45.8 / 33.1. 0.03 keeps the dark frames within 0.9 dB of themselves
alone (no ghost of the moving square) and nearly all of the bright frames' gain."""


def hat_weight(V: torch.Tensor, domain: tuple[float, float] = HAT_DOMAIN) -> torch.Tensor:
    """Debevec & Malik's hat weight of code values ``V``: rising from ``domain[0]`` to 1 at the middle
    of the domain, falling to 0 at ``domain[1]``, 0 outside."""
    lo, hi = domain
    mid = (lo + hi) / 2
    # 1 - |V - mid| / (mid - lo): the two slopes in one pass per step and a single frame-sized buffer
    return (V - mid).abs_().mul_(-1 / (mid - lo)).add_(1).clamp_(min=0)


def pixel_weight(frame: torch.Tensor, dim: int = -3) -> torch.Tensor:
    """The least :func:`hat_weight` of a pixel's three code values (along ``dim`` of ``frame``, which
    goes): a pixel counts as much as its worst-exposed channel. The hat rises then falls, so that least
    is the weight of the pixel's smallest or of its largest value: two planes weighed instead of three."""
    return torch.minimum(hat_weight(frame.amin(dim)), hat_weight(frame.amax(dim)))


def agreement(reference: torch.Tensor, other: torch.Tensor) -> torch.Tensor:
    """``(..., H, W)`` in [0, 1]: how well an aligned neighbour reproduces the reference, from their
    :func:`~hdrconv.models.alignment.code_at` the brighter exposure of the two (module docstring,
    step 4)."""
    # at the brighter exposure the darker frame's shadows are raised with their noise, so that a wrong
    # shadow shows: compared at the darker one, a neighbour twice too bright in the shadows differed by
    # 0.02 in code value, passed, and cost the 2-exposure test clip 2 dB of PSNR-PQ
    diff = (other - reference).abs_().float().contiguous().cpu().numpy()
    # averaged over 3 x 3 against noise, then the worst of 5 x 5: a box filter alone spreads the thin
    # disagreement along a moving edge below the threshold (PSNR-PQ of a moving square's region, 2-exposure
    # test clip: 46 dB against 75 dB for the reference alone). OpenCV's: torch's max_pool2d took 0.4 s
    # on a 1080p frame
    for plane in diff.reshape(-1, *diff.shape[-2:]):
        plane[...] = cv2.dilate(cv2.blur(plane, (3, 3), borderType=cv2.BORDER_REFLECT), np.ones((5, 5), np.uint8))
    # (2 GHOST_CODE - diff) / GHOST_CODE in the one plane
    return torch.from_numpy(diff).to(reference.device).mul_(-1 / GHOST_CODE).add_(2).clamp_(0, 1)


STRIP_PIXELS = 1920 * 1088
"""Pixels of the strips a frame is merged in (:func:`merge`): a 1080p frame in one piece, a 4K frame in
four, so that the merge's frame-sized buffers (radiances, weights, codes, warped neighbours) hold a
quarter of a 4K frame each. The 12-frame 3-exposure 4K clip of ``bench/alt_exp.py``: peak RSS of hdrconv
2.52 GiB merged whole, 2.03 GiB in strips."""
HALO = 3
"""Rows a strip reads beyond its own: :func:`agreement`'s 3 x 3 mean and 5 x 5 maximum reach 1 + 2."""


def merge(frames: Sequence[torch.Tensor], stops: tuple[float, ...], reference: int,
          out: torch.Tensor | None = None) -> torch.Tensor:
    """Radiance ``(3, H, W)`` of ``frames[reference]`` merged with the other ``frames`` (``(3, H, W)``
    each; module docstring), written into ``out`` where given.

    Every neighbour is located on the whole frame at the flow's resolution first; the full-resolution
    steps then run strip by strip (:data:`STRIP_PIXELS`, with :data:`HALO` rows of overlap), which
    gives the same result as the whole frame at once."""
    ref, e_ref = frames[reference], stops[reference]
    H, W = ref.shape[-2:]
    rows = max(1, STRIP_PIXELS // W)
    r_ref = alignment.radiance(ref, e_ref)
    r_small = alignment.reduce(r_ref)
    # in one piece, the reference's radiance serves the flow and the merge; in strips each computes its own
    whole = r_ref if rows >= H else None
    del r_ref
    # the reference at each common exposure, at the flow's resolution: both neighbours of a 2-exposure
    # frame share one
    seen: dict[float, torch.Tensor] = {}
    located = []
    for i, (frame, e) in enumerate(zip(frames, stops)):
        if i == reference:
            continue
        common = max(e_ref, e)
        if common not in seen:
            seen[common] = alignment.code_at(r_small, common)
        moving = alignment.code_at(alignment.radiance(alignment.reduce(frame), e), common)
        located.append((frame, e, common, *alignment.locate(seen[common], moving, (H, W))))
    result = ref.new_empty(3, H, W) if out is None else out
    for y0 in range(0, H, rows):
        y1 = min(H, y0 + rows)
        a, b = max(0, y0 - HALO), min(H, y1 + HALO)
        _merge_rows(ref[:, a:b], e_ref, [(f, e, c, (m[0][a:b], m[1][a:b]), inside[a:b])
                                         for f, e, c, m, inside in located],
                    slice(y0 - a, y1 - a), result[:, y0:y1], whole)
    return result


def _merge_rows(ref: torch.Tensor, e_ref: float, located: list, keep: slice, out: torch.Tensor,
                r_ref: torch.Tensor | None = None) -> None:
    """Steps 2-4 of the module docstring on rows of the reference ``ref`` with its ``located``
    neighbours (each: its whole frame, its stops, the exposure it is compared at, the sample maps and
    inside mask of these rows), the rows ``keep`` of the result written into ``out``. ``r_ref``: the
    reference's radiance, where already computed."""
    w_ref = pixel_weight(ref)
    r_ref = alignment.radiance(ref, e_ref) if r_ref is None else r_ref
    total = r_ref * w_ref
    weights = w_ref
    # where no frame is well exposed, the best lower bound: the brightest radiance of the frames that
    # agree with the reference (clipped everywhere, the darkest frame's clipping level): falling back to
    # the reference there put the EV 0 frames of a static 3-exposure clip 0.58 below the EV -2 ones
    bound = r_ref
    codes: dict[float, torch.Tensor] = {}
    for frame, e, common, maps, inside in located:
        if common not in codes:
            codes[common] = alignment.code_at(r_ref, common)
        # the signal warped, then its radiance and weight: warping the radiance (interpolating in linear
        # light) lost 0.8 dB PSNR-PQ on the dark frames of the 2-exposure test clip
        aligned = alignment.warp([*frame], maps)
        r, w = alignment.radiance(aligned, e), pixel_weight(aligned)
        del aligned
        agree = agreement(codes[common], alignment.code_at(r, common)).mul_(inside)
        w.mul_(agree)
        total.addcmul_(r, w)
        weights += w
        # r >= 0: the maximum with r where the neighbour agrees, without a third frame-sized copy
        bound = torch.maximum(bound, r.mul_(agree > AGREES))
    with_fallback(total[:, keep], weights[keep], bound[:, keep], out)


def with_fallback(total: torch.Tensor, weights: torch.Tensor, bound: torch.Tensor,
                  out: torch.Tensor | None = None) -> torch.Tensor:
    """The weighted mean ``total / weights`` with ``bound`` added at :data:`FALLBACK_WEIGHT`, which
    stands where no frame is well exposed (module docstring, step 3). In place, on ``total`` and
    ``weights``, or into ``out``."""
    total.add_(bound, alpha=FALLBACK_WEIGHT)
    weights.add_(FALLBACK_WEIGHT)
    return total.div_(weights) if out is None else torch.div(total, weights, out=out)


def partners(indices: tuple[int, ...], stops: tuple[float, ...], reference: int) -> list[int]:
    """Positions of the frames merged with ``reference``: its two neighbours, and a frame two away
    where it brings an exposure they lack (at the ends of a 3-exposure clip, where the mirror padding
    shows the same neighbour on both sides; in the 4-frame cycle ``-2, 0, 2, 0`` around EV -2)."""
    chosen: list[int] = []
    for q in (reference - 1, reference + 1, reference - 2, reference + 2):
        if not 0 <= q < len(indices) or indices[q] in {indices[c] for c in [reference, *chosen]}:
            continue
        if abs(q - reference) == 2 and any(abs(stops[q] - stops[c]) < 0.5 for c in [reference, *chosen]):
            continue
        chosen.append(q)
    return chosen


@register
class ExposureMerge(Model):
    name: ClassVar[str] = "merge"
    task: ClassVar[str] = "alt-exp"
    context: ClassVar[tuple[int, int]] = (2, 2)
    summary: ClassVar[str] = ("non-learned: neighbours aligned (similarity + DIS flow), Debevec-weighted "
                              "merge, reference kept where a neighbour disagrees (ghosts)")

    def process(self, frames: torch.Tensor, state: Any) -> tuple[torch.Tensor, Any]:
        raise TypeError("the merge needs each frame's exposure: call process_window with a Window")

    def process_window(self, window: Window, state: Any) -> tuple[torch.Tensor, Any]:
        if any(e is None for e in window.exposures):
            raise ValueError("the merge needs each frame's exposure (Window.exposures)")
        targets = range(len(window.indices))[window.targets]
        # each frame merged into its place in the result: stacking them after cost 15 ms per 1080p frame
        out = window.frames[0].new_empty(len(targets), *window.frames[0].shape)
        for o, t in zip(out, targets):
            used = [t, *partners(window.indices, window.exposures, t)]
            merge([window.frames[u] for u in used], tuple(window.exposures[u] for u in used), 0, out=o)
        return out, state
