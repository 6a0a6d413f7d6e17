"""Does a video model use its neighbours? Stability and recovered highlights on synthesised clips.

    python bench/temporal_clues.py [--models bt2408,bt2446a,anchored,temporal] [--weights temporal=PATH]
                                   [--frames 24]

Two measurements over the validation images of ../shared/hdr (issue 14's Done-when):

1. **Stability** on clips along a random camera path with a moving foreground, shot by the simulated
   auto-exposure camera of the video ITM supplementary (Eq. 1-3), the SDR every model sees. The
   ground truth is graded under the training grade and under each HDR-side held-out condition of
   the evaluation protocol (:func:`hdrconv.data.protocol.held_out_conditions`: the scene key 2 stops
   below and above the anchor, the other grading conventions). Per model: PSNR-PQ, flicker (excess
   P99 variation over the ground truth's) and warping error (excess over the ground truth's), under
   the training grade and held out; then each model's ratios to the best per-frame model (the highest held-out
   PSNR-PQ among the models without temporal state).
2. **A highlight clipped in frame t and visible in frame t-3**: a slow pan, the first four frames
   exposed so that almost nothing clips, the next four 2 stops brighter (a camera opening up). For
   frames 4-6, PSNR-PQ over the pixels clipped in frame t but not in frame t-3: what a model can
   only get right from an earlier frame.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
from rich.console import Console
from rich.table import Table

from hdrconv.color.transfer import eotf_inverse_ST2084
from hdrconv.data import metrics as M
from hdrconv.data.grading import TRAINING_GRADE, expose
from hdrconv.data.protocol import ground_truth, held_out_conditions
from hdrconv.data.scenes import VALIDATION_SEED, WORKING_SIZE, load_scenes
from hdrconv.data.validation import run_model
from hdrconv.data.video import auto_exposure, camera_exposure, render_clip
from hdrconv.eval.runner import evaluation_files
from hdrconv.models import registry

SHARED_HDR = Path(__file__).resolve().parents[2] / "shared" / "hdr"
HIGHLIGHT_STOPS = 2.0
"""How much brighter the last four frames of the highlight clip are exposed."""


def grades():
    """(name, key stops, grade): the training grade first, then the protocol's HDR-side held-out
    conditions (another grade, or the key moved for SDR and HDR alike), each once, named by the
    part of the condition's name before its SDR rendering."""
    seen = {"training grade": (0.0, TRAINING_GRADE)}
    for c in held_out_conditions():
        if c.group == "grading" or c.key_stops != 0:
            seen.setdefault(c.name.split("/")[0], (c.key_stops, c.grade))
    return [(name, *v) for name, v in seen.items()]


def masked_psnr_pq(output: torch.Tensor, reference: torch.Tensor, mask: torch.Tensor) -> float:
    pq = [eotf_inverse_ST2084(x.double().clamp(min=0)).permute(1, 0, 2, 3)[:, mask] for x in (output, reference)]
    return M.psnr(*pq)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default="bt2408,bt2446a,anchored,temporal")
    ap.add_argument("--weights", action="append", default=[], help="NAME=PATH: weights of a learned model")
    ap.add_argument("--frames", type=int, default=24)
    ap.add_argument("--data", default=str(SHARED_HDR))
    a = ap.parse_args()
    weights = dict(w.split("=", 1) for w in a.weights)
    names = a.models.split(",")
    models = {n: registry.create(n, **({"weights": weights[n]} if n in weights else {})) for n in names}
    conditions = grades()
    stab = {n: {c: [] for c, *_ in conditions} for n in names}
    clipped = {n: [] for n in names}
    # the stability clips take the paths of hdrconv eval --mode clips and bench/flicker.py; the
    # highlight clips draw theirs from a generator of their own, so that they do not shift those
    rng, pan_rng = np.random.default_rng(VALIDATION_SEED), np.random.default_rng(VALIDATION_SEED + 1)
    for path in evaluation_files(a.data):
        (scene,) = load_scenes([path], WORKING_SIZE)
        H, W = scene.image.shape[-2:]
        clip = render_clip(scene.image, rng, a.frames, (H // 2, W // 2))
        sdr, _ = auto_exposure(expose(clip.frames, scene.key))
        truths = {c: ground_truth(scene, clip.frames, k, g) for c, k, g in conditions}
        for n, m in models.items():
            out = run_model(m, sdr)
            for c, hdr in truths.items():
                stab[n][c].append((M.psnr_pq(out, hdr), M.flicker(out, hdr),
                                   M.warping_error(out, clip.coords, clip.valid, reference=hdr)))
        # the highlight clip: a slow pan without foreground, a camera opening up by HIGHLIGHT_STOPS
        pan = render_clip(scene.image, pan_rng, 8, (H // 2, W // 2), foreground=False, motion=0.25)
        relative = expose(pan.frames, scene.key)
        base = 0.9 / float(torch.quantile(relative[0].amax(0).flatten().double(), 0.999))
        times = base * 2.0 ** np.where(np.arange(8) >= 4, HIGHLIGHT_STOPS, 0.0)
        sdr = camera_exposure(relative, times)
        hdr = ground_truth(scene, pan.frames, 0.0, TRAINING_GRADE)
        full = sdr.amax(1) >= 1.0  # (T, h, w) clipped in some channel
        mask = torch.zeros_like(full)
        for t in (4, 5, 6):
            mask[t] = full[t] & ~full[t - 3]
        if mask.float().mean() < 1e-3:  # fewer than a few hundred pixels: nothing to recover
            print(f"{path.name}: {a.frames}-frame clip; highlight clip skipped (too few clipped pixels)",
                  file=sys.stderr)
            continue
        for n, m in models.items():
            clipped[n].append(masked_psnr_pq(run_model(m, sdr), hdr, mask))
        print(f"{path.name}: {a.frames}-frame clip, highlight clip ({float(mask.float().mean()):.2%} of pixels)",
              file=sys.stderr)

    held = [c for c, *_ in conditions if c != "training grade"]

    def summary(n):
        fam = np.array(stab[n]["training grade"]).mean(0)
        out = np.array([row for c in held for row in stab[n][c]]).mean(0)
        return fam, out

    sums = {n: summary(n) for n in names}
    per_frame = [n for n in names if not models[n].temporal]
    best = max(per_frame, key=lambda n: sums[n][1][0]) if per_frame else None
    table = Table(title=f"{len(stab[names[0]]['training grade'])} clips of {a.frames} frames; held out: {', '.join(held)}")
    for col in ("model", "PSNR-PQ training grade", "PSNR-PQ held-out", "flicker held-out", "warping error held-out",
                f"x {best}: flicker / warping", "clipped-highlight PSNR-PQ"):
        table.add_column(col, justify="left" if col == "model" else "right")
    for n in names:
        fam, out = sums[n]
        _, ref = sums[best] if best else (None, None)
        ratio = (f"{out[1] / ref[1]:.2f} / {out[2] / ref[2]:.2f}"
                 if best and ref[1] > 0 and ref[2] > 0 else "-")
        table.add_row(n, f"{fam[0]:.2f}", f"{out[0]:.2f}", f"{out[1]:+.4f}", f"{out[2]:+.5f}", ratio,
                      f"{np.mean(clipped[n]):.2f} ({len(clipped[n])} clips)" if clipped[n] else "-")
    Console(width=200).print(table)
    return 0


if __name__ == "__main__":
    torch.set_grad_enabled(False)
    sys.exit(main())
