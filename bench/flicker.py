"""Flicker on 10-second synthesised videos: does a model's brightness move more than the scene's?

    python bench/flicker.py [--seconds 10] [--models bt2408,bt2446a,fastitm] [--static]

For every held-out image of the validation split of ../shared/hdr, renders a clip of ``seconds`` x 24
frames along a random camera path with a moving foreground patch, shot by the simulated auto-exposure
camera of the video ITM supplementary (Eq. 1-3), exactly as ``hdrconv eval --mode clips`` does with
8 frames. Each model runs window by window with its state threaded, as in the converter; the table gives
flicker (mean |Delta P99 luminance| / mean P99 luminance, output minus ground truth: 0 is as steady as
the scene, positive flickers more) and warping error, mean and worst over the clips. ``--static``
holds each clip's first frame instead (no motion, no exposure change): any change is the model's.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from rich.console import Console
from rich.table import Table

from hdrconv.data import metrics as M
from hdrconv.data.scenes import WORKING_SIZE
from hdrconv.data.validation import run_model
from hdrconv.eval.runner import evaluation_files
from hdrconv.models import registry
from hdrconv.data.scenes import Sample, itm_clip_samples, load_scenes

SHARED_HDR = Path(__file__).resolve().parents[2] / "shared" / "hdr"


def still(sample: Sample) -> Sample:
    """``sample`` with its first frame held for the clip's length: every point stays where it is."""
    T, _, h, w = sample.sdr.shape
    y, x = torch.meshgrid(torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32), indexing="ij")
    coords = torch.stack([x, y], dim=-1).expand(T - 1, h, w, 2)
    return replace(sample, sdr=sample.sdr[:1].expand_as(sample.sdr).contiguous(),
                   hdr=sample.hdr[:1].expand_as(sample.hdr).contiguous(), coords=coords,
                   valid=torch.ones(T - 1, h, w, dtype=torch.bool))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--models", default="bt2408,bt2446a,bt2446c")
    ap.add_argument("--data", default=str(SHARED_HDR))
    ap.add_argument("--static", action="store_true", help="each clip's first frame held still")
    a = ap.parse_args()
    frames = round(a.seconds * 24)
    models = [registry.create(n) for n in a.models.split(",")]
    results: dict[str, list[tuple[float, float]]] = {m.name: [] for m in models}
    for path in evaluation_files(a.data):
        scene = load_scenes([path], WORKING_SIZE)
        (sample,) = itm_clip_samples(scene, frames)  # one scene at a time: memory stays one clip
        if a.static:
            sample = still(sample)
        for m in models:
            out = run_model(m, sample.sdr)
            results[m.name].append((M.flicker(out, sample.hdr),
                                    M.warping_error(out, sample.coords, sample.valid, reference=sample.hdr)))
        print(f"{path.name}: {frames} frames of {tuple(sample.sdr.shape[-2:])}", file=sys.stderr)
    still_note = ", first frame held" if a.static else ""
    table = Table(title=f"{len(next(iter(results.values())))} clips of {frames} frames ({a.seconds:g} s at 24 fps"
                        f"{still_note})")
    for col in ("model", "flicker mean", "flicker worst", "warping error mean"):
        table.add_column(col, justify="left" if col == "model" else "right")
    for name, rows in results.items():
        f, w = np.array(rows).T
        table.add_row(name, f"{f.mean():+.4f}", f"{f.max():+.4f}", f"{w.mean():+.5f}")
    Console().print(table)
    return 0


if __name__ == "__main__":
    torch.set_grad_enabled(False)
    sys.exit(main())
