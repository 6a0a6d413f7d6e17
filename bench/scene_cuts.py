"""Scene-cut detectors on synthesised clips whose cuts are known: the thumbnail detector of
:mod:`hdrconv.models.cuts` against PySceneDetect's, each fed frame by frame as the window loop feeds
a temporal model.

    python bench/scene_cuts.py [--data ../shared/hdr] [--frames 24] [--size 512]

Clips (crops of ``--crop`` pixels along a random camera path with a moving foreground patch,
:func:`hdrconv.data.video.render_clip`, shot by the auto-exposure camera of the video ITM
supplementary, :func:`hdrconv.data.video.auto_exposure`), one of each kind per image of ``--data``:

- **cut**: half the frames from the image, half from the next one, concatenated before the camera,
  which carries its exposure over the cut as a real camera does; the cut is at the first frame of
  the second image, and only a flag on that very frame counts as detected (a streaming model restarts
  its clues on the frame it is told);
- **light**: one image, the scene light stepped by +-1.5 stops at the middle frame (a light switched
  on or off) and the camera re-exposing after it: no cut;
- **pan**: one image, camera motion three times the default: no cut.

A false alarm is a flag on any other frame than the cut (the first frame, which has no predecessor,
is not counted). PySceneDetect runs with ``min_scene_len=0``: its minimum-length filter, when on,
withholds a cut until enough frames have followed it, which a model that decides on the frame cannot
wait for. PySceneDetect is needed only here: ``pip install scenedetect`` (it is no dependency of
hdrconv).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
from rich.console import Console
from rich.table import Table
from scenedetect import ContentDetector, FrameTimecode, HistogramDetector

from hdrconv.data.grading import expose
from hdrconv.data.scenes import load_scenes
from hdrconv.data.video import auto_exposure, render_clip
from hdrconv.io.hdr_image import list_hdr_images
from hdrconv.models.blocks import soft_histogram
from hdrconv.models.cuts import is_scene_cut
from hdrconv.models.fast_arch import FastITMNet, exposure_change

SHARED_HDR = Path(__file__).resolve().parents[2] / "shared" / "hdr"
LIGHT_STEP_STOPS = 1.5


class Thumbnail:
    """The thumbnail detector as FastITM runs it: luma histogram of the 1/8 thumbnail
    (:func:`is_scene_cut`), and with ``exposure`` also co-located thumbnail pixels that disagree on
    the exposure change (:func:`exposure_change` returns None)."""

    def __init__(self, exposure: bool):
        self.net, self.exposure, self.previous = FastITMNet(), exposure, None

    def __call__(self, frame: torch.Tensor) -> bool:
        luma = self.net.thumbnail(frame[None])[:, 3:]
        hist = soft_histogram(luma, self.net.bins)
        previous, self.previous = self.previous, (hist, luma)
        if previous is None:
            return False
        if is_scene_cut(hist, previous[0]):
            return True
        return self.exposure and exposure_change(previous[1], luma) is None


class PySceneDetect:
    """A PySceneDetect detector fed one 8-bit BGR frame at a time (its ``process_frame``)."""

    def __init__(self, detector):
        self.detector, self.index = detector, 0

    def __call__(self, frame: torch.Tensor) -> bool:
        bgr = np.ascontiguousarray((frame * 255).round().byte().permute(1, 2, 0).numpy()[..., ::-1])
        cuts = self.detector.process_frame(FrameTimecode(self.index, fps=24.0), bgr)
        self.index += 1
        return any(c.frame_num == self.index - 1 for c in cuts)


DETECTORS = {
    "thumbnail histogram (anchored)": lambda: Thumbnail(exposure=False),
    "thumbnail histogram + exposure (fastitm)": lambda: Thumbnail(exposure=True),
    "PySceneDetect ContentDetector": lambda: PySceneDetect(ContentDetector(min_scene_len=0)),
    "PySceneDetect HistogramDetector": lambda: PySceneDetect(HistogramDetector(min_scene_len=0)),
}


def clips(scenes, frames: int, crop: tuple[int, int], seed: int):
    """(kind, SDR frames ``(T, 3, h, w)``, index of the cut or None) for every scene."""
    rng = np.random.default_rng(seed)
    half = frames // 2
    for i, s in enumerate(scenes):
        nxt = scenes[(i + 1) % len(scenes)]
        a = expose(render_clip(s.image, rng, half, crop).frames, s.key)
        b = expose(render_clip(nxt.image, rng, frames - half, crop).frames, nxt.key)
        yield "cut", auto_exposure(torch.cat([a, b]))[0], half
        light = expose(render_clip(s.image, rng, frames, crop).frames, s.key)
        light[half:] *= 2.0 ** (LIGHT_STEP_STOPS if i % 2 == 0 else -LIGHT_STEP_STOPS)
        yield "light", auto_exposure(light)[0], None
        pan = expose(render_clip(s.image, rng, frames, crop, motion=3.0).frames, s.key)
        yield "pan", auto_exposure(pan)[0], None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=str(SHARED_HDR))
    ap.add_argument("--frames", type=int, default=24)
    ap.add_argument("--size", type=int, default=512, help="long side of the images")
    ap.add_argument("--crop", type=int, nargs=2, default=(160, 256), metavar=("H", "W"))
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    torch.set_num_threads(1)
    scenes = load_scenes(list_hdr_images(a.data), a.size)
    counts = {name: {"hits": 0, "cuts": 0, "cut": 0, "light": 0, "pan": 0} for name in DETECTORS}
    frames = {"cut": 0, "light": 0, "pan": 0}
    for kind, sdr, cut in clips(scenes, a.frames, tuple(a.crop), a.seed):
        frames[kind] += len(sdr) - 1
        for name, make in DETECTORS.items():
            detect, c = make(), counts[name]
            flags = [detect(f) for f in sdr]
            if cut is not None:
                c["cuts"] += 1
                c["hits"] += flags[cut]
            c[kind] += sum(f for t, f in enumerate(flags) if t != cut)
    print(f"{len(scenes)} images of {a.data}, {a.frames} frames of {a.crop[0]}x{a.crop[1]} per clip",
          file=sys.stderr)
    table = Table(title="scene cuts detected on the cut frame, and false alarms (flags on other frames)")
    for col in ("detector", "cuts detected", f"false alarms: cut clips ({frames['cut']} frames)",
                f"light steps ({frames['light']})", f"fast pans ({frames['pan']})"):
        table.add_column(col, justify="left" if col == "detector" else "right")
    for name, c in counts.items():
        table.add_row(name, f"{c['hits']}/{c['cuts']}", str(c["cut"]), str(c["light"]), str(c["pan"]))
    Console(width=150).print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
