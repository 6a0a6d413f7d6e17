"""Throughput at 1080p: decode alone, the whole pipeline per model, and the plain ffmpeg command.

    python bench/throughput.py [--seconds 5] [--preset medium] [--models bt2408,fastitm]
                               [--content photo|pattern] [--no-grain]
    python bench/throughput.py --command [--repeat 3] [--seconds 4 --content pattern --no-grain]

Generates a 1080p24 SDR clip with audio and prints frames per second of

  (a) decoding alone (PyAV + Y'CbCr -> R'G'B', as the pipeline does),
  (b) ``hdrconv itm --model bt2408`` (the no-model pipeline),
  (c) ``hdrconv itm --model M`` for every registered model (untrained learned models are skipped),
  (d) the plain ffmpeg command a user would type for the same job: zscale SDR -> PQ with 203 cd/m2
      reference white, libx265 at the same preset and CRF 18, audio copied,

each with its ratio to (b). Runs are sequential, in one process, on the same clip.

``--command`` times whole commands instead, start-up included, as a user meets them on a short clip:
``hdrconv itm --model bt2408`` in a fresh Python process against (d), each run ``--repeat`` times,
printing the fastest wall time, the CPU time of the process and its children (the same run), and the
ratio of the wall times. On a shared machine the CPU time is the steadier figure.

The clip (``--content``): ``photo`` (default) is a slow pan over a real HDR photograph of the
validation split (../shared/hdr/openexr-images-mttamwest.exr, BSD-3-Clause), tone-mapped to SDR with the
Hable curve and upscaled to fill the frame; ``pattern`` is FFmpeg's testsrc2. Both get temporal grain
(--no-grain: none) so that x265 sees texture as in camera footage. x265's speed depends on the picture
it encodes, so a model whose output is harder to encode is slower for that reason too.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from hdrconv.color.conventions import MasteringDisplay  # noqa: E402
from hdrconv.color.transfer import eotf_inverse_BT1886  # noqa: E402
from hdrconv.errors import UsageError  # noqa: E402
from hdrconv.io.hdr_image import read_hdr_image  # noqa: E402
from hdrconv.io.decode import VideoDecoder  # noqa: E402
from hdrconv.io.encode import FFMPEG, EncodeSettings  # noqa: E402
from hdrconv.io.probe import probe  # noqa: E402
from hdrconv.models import registry  # noqa: E402
from hdrconv.pipeline.convert import convert  # noqa: E402
from hdrconv.pipeline.run import build_model  # noqa: E402
from hdrconv.data.grading import expose  # noqa: E402
from hdrconv.data.synthesis import SDRRecipe, tone_map_SDR  # noqa: E402


PHOTO = Path(__file__).resolve().parents[2] / "shared" / "hdr" / "openexr-images-mttamwest.exr"
SIZE = (1920, 1080)


def photo_frames(seconds: float) -> tuple[np.ndarray, int]:
    """The SDR photograph, 8-bit R'G'B' ``H x W x 3`` at least 1080 lines high and wider than 1920
    columns by the pan, and the number of frames."""
    scene = torch.from_numpy(read_hdr_image(PHOTO)).permute(2, 0, 1)
    relative = expose(scene)
    sdr = eotf_inverse_BT1886(tone_map_SDR(relative, relative, SDRRecipe("hable", saturation=0.8)))
    image = (sdr.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
    frames = round(seconds * 24)
    scale = max(SIZE[1] / image.shape[0], (SIZE[0] + 2 * frames) / image.shape[1])
    size = (round(image.shape[1] * scale), round(image.shape[0] * scale))
    return cv2.resize(image, size, interpolation=cv2.INTER_CUBIC), frames


def make_clip(path: Path, seconds: float, grain: bool, content: str) -> None:
    vf = "noise=alls=12:allf=t+u," if grain else ""
    encode = ["-vf", vf + "setparams=color_primaries=bt709:color_trc=bt709:colorspace=bt709:range=tv",
              "-c:v", "libx264", "-preset", "fast", "-crf", "18", "-pix_fmt", "yuv420p", "-c:a", "aac", str(path)]
    audio = ["-f", "lavfi", "-i", f"sine=f=440:d={seconds}"]
    head = [FFMPEG, "-hide_banner", "-loglevel", "error", "-y"]
    if content == "pattern":
        subprocess.run(head + ["-nostdin", "-f", "lavfi", "-i", f"testsrc2=s={SIZE[0]}x{SIZE[1]}:r=24:d={seconds}"]
                       + audio + encode, check=True)
        return
    image, frames = photo_frames(seconds)
    cmd = head + ["-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{SIZE[0]}x{SIZE[1]}", "-r", "24", "-i", "pipe:0"] \
        + audio + ["-shortest"] + encode
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE)
    y = (image.shape[0] - SIZE[1]) // 2
    for t in range(frames):  # a pan of 2 pixels per frame
        proc.stdin.write(np.ascontiguousarray(image[y:y + SIZE[1], 2 * t:2 * t + SIZE[0]]).tobytes())
    proc.stdin.close()
    if proc.wait() != 0:
        raise RuntimeError("ffmpeg could not encode the clip")


def plain_ffmpeg_args(src: Path, out: Path, preset: str) -> list[str]:
    x265 = f"log-level=error:repeat-headers=1:hdr10=1:master-display={MasteringDisplay().x265()}"
    return [FFMPEG, "-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-i", str(src),
            "-map", "0:v", "-map", "0:a",
            "-vf", "zscale=tin=bt709:min=bt709:pin=bt709:rin=tv:p=bt2020:t=smpte2084:m=bt2020nc:r=tv:npl=203,"
                   "format=yuv420p10le",
            "-c:v", "libx265", "-preset", preset, "-crf", "18", "-x265-params", x265,
            "-color_primaries", "bt2020", "-color_trc", "smpte2084", "-colorspace", "bt2020nc",
            "-c:a", "copy", str(out)]


def timed(cmd: list[str], repeat: int) -> tuple[float, float]:
    """The fastest of ``repeat`` runs of ``cmd``: (wall seconds, CPU seconds of it and its children)."""
    best = (float("inf"), 0.0)
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        subprocess.run(cmd, check=True)
        wall = time.perf_counter() - t
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
        best = min(best, (wall, cpu))
    return best


def whole_commands(src: Path, tmp: str, preset: str, repeat: int) -> None:
    """``--command``: hdrconv itm --model bt2408 and the plain ffmpeg command, start-up included."""
    out = Path(tmp) / "whole.mkv"
    hdrconv = [sys.executable, "-m", "hdrconv.cli", "itm", "--model", "bt2408", "--x265-preset", preset, "--quiet",
               "--force", str(src), str(out)]
    rows = [("hdrconv itm --model bt2408", *timed(hdrconv, repeat)),
            ("plain ffmpeg (zscale + x265)", *timed(plain_ffmpeg_args(src, Path(tmp) / "plain.mkv", preset), repeat))]
    table = Table(title=f"whole commands, fastest of {repeat}, {os.cpu_count()} CPUs")
    for col in ("command", "wall s", "CPU s", "wall ratio to plain"):
        table.add_column(col, justify="left" if col == "command" else "right")
    for label, wall, cpu in rows:
        table.add_row(label, f"{wall:.2f}", f"{cpu:.2f}", f"{wall / rows[1][1]:.2f}")
    Console().print(table)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--preset", default="medium")
    ap.add_argument("--models", help="comma-separated models (default: every registered ITM model)")
    ap.add_argument("--content", choices=("photo", "pattern"), default="photo")
    ap.add_argument("--no-grain", action="store_true")
    ap.add_argument("--command", action="store_true", help="time whole commands, start-up included")
    ap.add_argument("--repeat", type=int, default=3, help="runs per whole command (--command)")
    a = ap.parse_args()
    if a.content == "photo" and not PHOTO.exists():
        ap.error(f"{PHOTO} not found (the project's shared HDR images): use --content pattern")

    rows: list[tuple[str, int, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "clip1080.mp4"
        make_clip(src, a.seconds, grain=not a.no_grain, content=a.content)
        if a.command:
            whole_commands(src, tmp, a.preset, a.repeat)
            return 0
        info = probe(str(src))

        t = time.perf_counter()
        n = sum(1 for _ in VideoDecoder(info))
        rows.append(("(a) decode only", n, time.perf_counter() - t))

        names = a.models.split(",") if a.models else registry.names("itm")
        names = ["bt2408"] + [m for m in names if m != "bt2408"]
        settings = EncodeSettings(preset=a.preset)
        for name in names:
            try:
                model = build_model(name, "cpu")  # as `hdrconv itm` builds it (device, threads)
            except UsageError as e:
                print(f"skipping {name}: {e}", file=sys.stderr)
                continue
            out = Path(tmp) / f"{name}.mkv"
            r = convert(str(src), str(out), model, settings, force=True, info=info)
            label = "(b) pipeline, bt2408" if name == "bt2408" else f"(c) pipeline, {name}"
            rows.append((label, r.frames, r.seconds))

        out = Path(tmp) / "plain.mkv"
        t = time.perf_counter()
        subprocess.run(plain_ffmpeg_args(src, out, a.preset), check=True)
        rows.append(("(d) plain ffmpeg (zscale + x265)", n, time.perf_counter() - t))

    ref = rows[1][1] / rows[1][2]
    table = Table(title=f"1080p24, {a.seconds:g} s, x265 preset {a.preset}, CRF 18, "
                        f"{a.content}, {'no grain' if a.no_grain else 'with grain'}, {os.cpu_count()} CPUs")
    for col in ("run", "frames", "seconds", "fps", "ratio to (b)"):
        table.add_column(col, justify="left" if col == "run" else "right")
    for label, frames, seconds in rows:
        fps = frames / seconds
        table.add_row(label, str(frames), f"{seconds:.1f}", f"{fps:.2f}", f"{fps / ref:.2f}")
    console = Console()
    console.print(table)
    plain = rows[-1][1] / rows[-1][2]
    console.print(f"no-model pipeline (b) / plain ffmpeg (d) = {ref / plain:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
