"""Throughput at 1080p: decode alone, the whole pipeline per model, and the plain ffmpeg command.

    python bench/throughput.py [--seconds 5] [--preset medium] [--models bt2408,fastitm] [--no-grain]

Generates a 1080p24 SDR clip with audio (FFmpeg's testsrc2 with temporal grain, so that x265 sees
texture as in camera footage; --no-grain for the flat pattern) and prints frames per second of

  (a) decoding alone (PyAV + Y'CbCr -> R'G'B', as the pipeline does),
  (b) ``hdrconv itm --model bt2408`` (the no-model pipeline),
  (c) ``hdrconv itm --model M`` for every registered model (untrained learned models are skipped),
  (d) the plain ffmpeg command a user would type for the same job: zscale SDR -> PQ with 203 cd/m2
      reference white, libx265 at the same preset and CRF 18, audio copied,

each with its ratio to (b). Runs are sequential, in one process, on the same clip.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from hdrconv.color.conventions import MasteringDisplay  # noqa: E402
from hdrconv.errors import UsageError  # noqa: E402
from hdrconv.io.decode import VideoDecoder  # noqa: E402
from hdrconv.io.encode import FFMPEG, EncodeSettings  # noqa: E402
from hdrconv.io.probe import probe  # noqa: E402
from hdrconv.models import registry  # noqa: E402
from hdrconv.pipeline.convert import convert  # noqa: E402
from hdrconv.pipeline.run import build_model  # noqa: E402


def make_clip(path: Path, seconds: float, grain: bool) -> None:
    vf = "noise=alls=12:allf=t+u," if grain else ""
    subprocess.run([FFMPEG, "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
                    "-f", "lavfi", "-i", f"testsrc2=s=1920x1080:r=24:d={seconds}",
                    "-f", "lavfi", "-i", f"sine=f=440:d={seconds}",
                    "-vf", vf + "setparams=color_primaries=bt709:color_trc=bt709:colorspace=bt709:range=tv",
                    "-c:v", "libx264", "-preset", "fast", "-crf", "18", "-pix_fmt", "yuv420p",
                    "-c:a", "aac", str(path)], check=True)


def plain_ffmpeg_args(src: Path, out: Path, preset: str) -> list[str]:
    x265 = f"log-level=error:repeat-headers=1:hdr10=1:master-display={MasteringDisplay().x265()}"
    return [FFMPEG, "-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-i", str(src),
            "-map", "0:v", "-map", "0:a",
            "-vf", "zscale=tin=bt709:min=bt709:pin=bt709:rin=tv:p=bt2020:t=smpte2084:m=bt2020nc:r=tv:npl=203,"
                   "format=yuv420p10le",
            "-c:v", "libx265", "-preset", preset, "-crf", "18", "-x265-params", x265,
            "-color_primaries", "bt2020", "-color_trc", "smpte2084", "-colorspace", "bt2020nc",
            "-c:a", "copy", str(out)]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--preset", default="medium")
    ap.add_argument("--models", help="comma-separated models (default: every registered ITM model)")
    ap.add_argument("--no-grain", action="store_true")
    a = ap.parse_args()

    rows: list[tuple[str, int, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "clip1080.mp4"
        make_clip(src, a.seconds, grain=not a.no_grain)
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
                        f"{'flat pattern' if a.no_grain else 'with grain'}, {os.cpu_count()} CPUs")
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
