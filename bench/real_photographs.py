"""Real SDR photographs, no ground truth: is the HDR as colourful and as contrasty as the SDR?

    python bench/real_photographs.py [--models bt2408,bt2446a,bt2446c,fastitm,irnet,anchored]

scikit-image's bundled photographs (astronaut, chelsea, coffee, rocket; ``pip install '.[test]'``)
through each model. Per photograph and model: mean ICtCp chroma (:func:`hdrconv.data.metrics.
colourfulness`), spread of log2 luminance (:func:`~hdrconv.data.metrics.log_contrast`), mean and peak
luminance in cd/m2. The SDR column is the photograph as an SDR display shows it, placed in the HDR
container (``bt2408``). The held-out protocol is synthesised from HDR images; this is the check on
pictures nobody graded for us, which caught the washed-out learned models.
"""

from __future__ import annotations

import argparse

import skimage.data
import torch
from rich.console import Console
from rich.table import Table

from hdrconv.color.conventions import BT2020_WEIGHTS
from hdrconv.data.grading import luminance
from hdrconv.data.metrics import colourfulness, log_contrast
from hdrconv.models import registry

PHOTOGRAPHS = ("astronaut", "chelsea", "coffee", "rocket")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default="bt2408,bt2446a,bt2446c,fastitm,irnet,anchored")
    names = ap.parse_args().models.split(",")
    models = [registry.create(n) for n in names]
    table = Table(title="real SDR photographs: chroma / log2 contrast / mean / peak cd/m2 (SDR = bt2408)")
    table.add_column("photograph")
    for n in names:
        table.add_column(n, justify="right")
    for photo in PHOTOGRAPHS:
        sdr = torch.from_numpy(getattr(skimage.data, photo)()).permute(2, 0, 1).float()[None] / 255
        cells = []
        for m in models:
            with torch.no_grad():
                hdr, _ = m.process(sdr, m.initial_state())
            mean = float(luminance(hdr, BT2020_WEIGHTS).mean())
            cells.append(f"{colourfulness(hdr):.4f} / {log_contrast(hdr):.2f} / {mean:.0f} / {float(hdr.amax()):.0f}")
        table.add_row(photo, *cells)
    Console(width=60 + 34 * len(names)).print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
