"""Generalisation: models on SDR made by tone mappers outside the training family.

    python bench/unseen_tonemappers.py [--models bt2408,bt2446a,bt2446c,fastitm] [--weights NAME=FILE]

The validation images of ../shared/hdr are graded to HDR10 exactly as for ``hdrconv eval``; their SDR
versions, though, come from curves outside the evaluation family:

- ``aces``: the ACES filmic fit of K. Narkowicz ("ACES Filmic Tone Mapping Curve", 2016),
  x (2.51 x + 0.03) / (x (2.43 x + 0.59) + 0.14) per channel on the relative scene light, as games
  and many renderers use it (no model is trained on it);
- ``reinhard10``: FFmpeg's ``tonemap=reinhard`` (contrast 0.5) as a user would run it on an HDR10
  file: x / (x + 1) (peak + 1) / peak on max(R, G, B) in units of 100 cd/m2, peak = 10 (no model is
  trained on it);
- ``bt2390``: the HDR10 grade on a 100 cd/m2 SDR display as players and TVs show it, the ITU-R
  BT.2390 EETF per channel (one member of the ``eetf`` tone mapper that training draws from since
  it was added, :mod:`hdrconv.data.synthesis`).

All are gamut mapped to BT.709 where needed, BT.1886 encoded and quantised to 8 bits. The table gives
the mean PSNR-PQ and ΔE_ITP per curve.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
from rich.console import Console
from rich.table import Table

from hdrconv.color.transfer import eotf_inverse_BT1886
from hdrconv.data import metrics as M
from hdrconv.data.scenes import WORKING_SIZE
from hdrconv.data.validation import run_model
from hdrconv.eval.runner import evaluation_files
from hdrconv.models import registry
from hdrconv.data.scenes import load_scenes
from hdrconv.data.grading import MASTERING_PEAK_NITS, expose, grade_HDR10
from hdrconv.data.synthesis import SDRRecipe, gamut_map_BT2020_to_BT709, quantise_8bit, synthesize_SDR

SHARED_HDR = Path(__file__).resolve().parents[2] / "shared" / "hdr"

SDR_DISPLAY_NITS = 100.0
"""Peak of the SDR display the ``bt2390`` curve targets."""


def aces_filmic(x: torch.Tensor) -> torch.Tensor:
    """Narkowicz's fit of the ACES filmic curve: relative light -> SDR display light in [0, 1]."""
    return (x * (2.51 * x + 0.03) / (x * (2.43 * x + 0.59) + 0.14)).clamp(0, 1)


def reinhard_ffmpeg(nits: torch.Tensor, peak: float = MASTERING_PEAK_NITS / SDR_DISPLAY_NITS) -> torch.Tensor:
    """FFmpeg's tonemap=reinhard (param 1) on max(R, G, B) of an HDR10 grade: BT.709 display light."""
    m = nits.clamp(min=0).amax(dim=-3, keepdim=True) / SDR_DISPLAY_NITS
    scale = (m / (m + 1) * (peak + 1) / peak) / m.clamp(min=1e-6)
    return gamut_map_BT2020_to_BT709(nits / SDR_DISPLAY_NITS * scale)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default="bt2408,bt2446a,bt2446c,fastitm")
    ap.add_argument("--weights", action="append", default=[], help="NAME=FILE: weights for a learned model")
    ap.add_argument("--data", default=str(SHARED_HDR))
    a = ap.parse_args()
    weights = dict(w.split("=", 1) for w in a.weights)
    models = [registry.create(n, **({"weights": weights[n]} if n in weights else {})) for n in a.models.split(",")]
    def signal(display_light):
        return quantise_8bit(eotf_inverse_BT1886(display_light))

    # SDR signal from (relative scene light, HDR10 grade); bt2390 is the training family's eetf recipe
    curves = {"aces": lambda rel, nits: signal(aces_filmic(rel)),
              "reinhard10": lambda rel, nits: signal(reinhard_ffmpeg(nits)),
              "bt2390": lambda rel, nits: synthesize_SDR(rel, nits, SDRRecipe("eetf", sdr_white=SDR_DISPLAY_NITS))}
    results = {(m.name, c): [] for m in models for c in curves}
    for path in evaluation_files(a.data):
        (scene,) = load_scenes([path], WORKING_SIZE)
        relative = expose(scene.image, scene.key)
        nits = grade_HDR10(relative, scene.source_peak(0.0))[None]
        for c, curve in curves.items():
            sdr = curve(relative, nits[0])[None]
            for m in models:
                out = run_model(m, sdr)
                results[m.name, c].append((M.psnr_pq(out, nits), M.delta_E_ITP(out, nits)))
        print(f"{path.name}", file=sys.stderr)
    table = Table(title=f"{len(evaluation_files(a.data))} validation images, SDR from tone mappers outside the "
                        "evaluation family")
    table.add_column("model")
    for c in curves:
        table.add_column(f"{c} PSNR-PQ ↑", justify="right")
        table.add_column(f"{c} ΔE_ITP ↓", justify="right")
    for m in models:
        cells = []
        for c in curves:
            psnr, de = np.array(results[m.name, c]).mean(axis=0)
            cells += [f"{psnr:.2f}", f"{de:.2f}"]
        table.add_row(m.name, *cells)
    Console(width=140).print(table)
    return 0


if __name__ == "__main__":
    torch.set_grad_enabled(False)
    sys.exit(main())
