"""Throughput and memory of ``hdrconv alt-exp`` (issue 13: merge >= 0.5x the ``itm`` bt2408 pipeline,
the learned default >= 0.25 fps at 1080p, peak RSS of a 4K clip under 3 GB).

    python bench/alt_exp.py [--seconds 5] [--exposures 2,3] [--stops 2] [--preset medium]
                            [--rss-seconds 0.5] [--no-rss] [--no-learned]

Generates, per number of exposures, a 1080p24 alternating-exposure clip: a slow pan (2 pixels per
frame) over a real HDR photograph of ../shared/hdr (the test image of tests/altexp_media.py, upscaled
to fill the frame), each frame exposed by its place in the cycle (EV -s, +s or -s, 0, +s:
hdrconv.data.video.exposure_values), through the BT.709 OETF as the camera response (the clip is
tagged bt709, which alt-exp inverts), 8 bits, lossless FFV1 4:4:4 (tests/altexp_media.py). Then prints
frames per second of

  (a) ``hdrconv alt-exp --model merge`` (the whole pipeline: cycle estimate, decode, merge, encode, mux),
  (b) ``hdrconv alt-exp`` with the learned default for that many exposures (c2f-2exp, c2f-3exp), skipped
      with a line saying so while it has no trained weights,
  (c) ``hdrconv itm --model bt2408`` on a 1080p24 SDR clip of the same length (bench/throughput.py's
      clip, photo content, no grain: the alternating clips have none either),

each with its ratio to (c), all in this process, timed from the call to the converted file on disk.
x265's speed depends on the picture it encodes: the clips' different photographs are part of the ratio.

Then the peak resident memory of ``hdrconv alt-exp --model merge`` on a 3840x2160 clip of
``--rss-seconds`` (the largest number of exposures asked for), run as a command in a child process:
the peak RSS of that process and of its largest child (the ffmpeg encoder), read from /proc as VmHWM
(:data:`CHILD` says why ru_maxrss, printed beside them, is not enough), and their sum, the most both
can hold at once.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # bench.throughput and tests.altexp_media, run from anywhere
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from bench.throughput import make_clip  # noqa: E402
from hdrconv.data.video import exposure_values  # noqa: E402
from hdrconv.errors import UsageError  # noqa: E402
from hdrconv.io.encode import EncodeSettings  # noqa: E402
from hdrconv.pipeline.altexp import ALT_EXP  # noqa: E402
from hdrconv.pipeline.convert import convert  # noqa: E402
from hdrconv.pipeline.options import AltExpOptions  # noqa: E402
from hdrconv.pipeline.run import build_model  # noqa: E402
from tests.altexp_media import IMAGE, SHARED_HDR, encode_camera, panned, scene, write_clip  # noqa: E402

RATE = 24
PAN = 2
LEARNED = {2: "c2f-2exp", 3: "c2f-3exp"}
"""The learned default for footage of that many exposures."""

CHILD = """import glob, resource, sys, threading, time
from hdrconv.cli import main

def hwm(pid):
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))

children = {}
def watch():
    while True:
        for path in glob.glob("/proc/self/task/*/children"):
            for pid in open(path).read().split():
                try:
                    children[pid] = max(children.get(pid, 0), hwm(pid))
                except OSError:
                    pass
        time.sleep(0.2)

threading.Thread(target=watch, daemon=True).start()
code = main(sys.argv[1:])
print(hwm("self"), max(children.values(), default=0), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
sys.exit(code)
"""
"""``hdrconv`` in a child that tells, in KiB, its own peak RSS (VmHWM), its largest child's (the
encoder's VmHWM, read every 0.2 s while it runs) and its ru_maxrss. ru_maxrss alone cannot tell them
apart on Linux: a process starts from the peak RSS of the one that spawned it (`true` run from a
Python process holding 1.5 GiB: ru_maxrss 1.48 GiB), so the first run of this script had the encoder
at hdrconv's 4.45 GiB."""


def alternating_clip(path: Path, size: tuple[int, int], frames: int, exposures: int, stops: int) -> Path:
    """The alternating-exposure clip of the module docstring, ``size`` (width, height), rendered and
    written one frame at a time."""
    w, h = size
    image = scene(width=8 + w + PAN * frames + 1)  # the crops of panned() start at x = 8
    ev = exposure_values(frames, exposures, stops)
    codes = (encode_camera(f[None], [float(e)])[0] for f, e in zip(panned(image, frames, (h, w), PAN), ev))
    return write_clip(path, codes, transfer="bt709", rate=RATE)


def time_alt_exp(src: Path, out: Path, model: str, settings: EncodeSettings) -> tuple[int, float]:
    """(frames, seconds) of ``hdrconv alt-exp --model MODEL`` on ``src``, as the command builds and
    runs it; raises UsageError for a model without trained weights."""
    options = AltExpOptions(inputs=(str(src),), model=model, force=True, quiet=True)
    m = ALT_EXP.build(model, options, settings)
    t = time.perf_counter()
    r = ALT_EXP.convert(str(src), str(out), m, settings, options, lambda e: None, None)
    return r.frames, time.perf_counter() - t


def peak_rss(src: Path, out: Path, preset: str) -> tuple[int, int, int]:
    """KiB at their peaks converting ``src``: the hdrconv process, its largest child, and the
    process's ru_maxrss (:data:`CHILD`)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    r = subprocess.run([sys.executable, "-c", CHILD, "alt-exp", "--model", "merge", "--x265-preset", preset,
                        "--quiet", "--force", str(src), str(out)], env=env, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"hdrconv alt-exp on the 4K clip failed: {r.stderr.strip()}")
    own, child, maxrss = map(int, r.stdout.split()[-3:])
    return own, child, maxrss


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=5.0, help="length of the 1080p clips")
    ap.add_argument("--exposures", default="2,3", help="comma-separated numbers of alternating exposures")
    ap.add_argument("--stops", type=int, default=2, help="s of the cycle EV -s, +s or -s, 0, +s")
    ap.add_argument("--preset", default="medium", help="x265 preset")
    ap.add_argument("--rss-seconds", type=float, default=0.5, help="length of the 4K clip")
    ap.add_argument("--no-rss", action="store_true", help="skip the 4K memory run")
    ap.add_argument("--no-learned", action="store_true", help="skip (b), the learned models (minutes per clip)")
    a = ap.parse_args()
    if not (SHARED_HDR / IMAGE).is_file():
        ap.error(f"{SHARED_HDR / IMAGE} not found (the project's shared HDR images)")
    try:
        counts = [int(n) for n in a.exposures.split(",")]
    except ValueError:
        ap.error(f"--exposures {a.exposures}: comma-separated integers, e.g. 2,3")
    if any(n not in LEARNED for n in counts):
        ap.error(f"--exposures {a.exposures}: 2 or 3 each")
    frames = round(a.seconds * RATE)
    if frames < 2 * max(counts):
        ap.error(f"--seconds {a.seconds:g}: fewer than two exposure cycles")

    settings = EncodeSettings(preset=a.preset)
    console = Console()
    rows: list[tuple[str, int, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        sdr = Path(tmp) / "sdr1080.mp4"
        make_clip(sdr, frames / RATE, grain=False, content="photo")
        model = build_model("bt2408", "cpu")  # as `hdrconv itm` builds it (device, threads)
        t = time.perf_counter()
        r = convert(str(sdr), str(Path(tmp) / "bt2408.mkv"), model, settings, force=True)
        rows.append(("(c) itm --model bt2408 (SDR clip)", r.frames, time.perf_counter() - t))
        for n in counts:
            src = alternating_clip(Path(tmp) / f"alt{n}.mkv", (1920, 1080), frames, n, a.stops)
            rows.append((f"(a) alt-exp --model merge, {n} exposures",
                         *time_alt_exp(src, Path(tmp) / f"merge{n}.mkv", "merge", settings)))
            if a.no_learned:
                continue
            try:
                rows.append((f"(b) alt-exp --model {LEARNED[n]}, {n} exposures",
                             *time_alt_exp(src, Path(tmp) / f"learned{n}.mkv", LEARNED[n], settings)))
            except UsageError as e:
                console.print(f"skipping {LEARNED[n]}: {e}")

        rss = None
        if not a.no_rss:
            n = max(counts)
            frames_4k = max(2 * n, round(a.rss_seconds * RATE))
            src = alternating_clip(Path(tmp) / "alt4k.mkv", (3840, 2160), frames_4k, n, a.stops)
            rss = n, frames_4k, peak_rss(src, Path(tmp) / "merge4k.mkv", a.preset)

    ref = rows[0][1] / rows[0][2]
    table = Table(title=f"1080p{RATE}, {frames} frames, EV +-{a.stops}, x265 preset {a.preset}, {os.cpu_count()} CPUs")
    for col in ("run", "frames", "seconds", "fps", "ratio to (c)"):
        table.add_column(col, justify="left" if col == "run" else "right")
    for label, n_frames, seconds in [*rows[1:], rows[0]]:
        fps = n_frames / seconds
        table.add_row(label, str(n_frames), f"{seconds:.1f}", f"{fps:.2f}", f"{fps / ref:.2f}")
    console.print(table)
    if rss is not None:
        n, frames_4k, (own, child, maxrss) = rss
        console.print(f"peak RSS, alt-exp --model merge, 3840x2160, {frames_4k} frames, {n} exposures: hdrconv "
                      f"{own / 2**20:.2f} GiB, largest child (encoder) {child / 2**20:.2f} GiB, sum "
                      f"{(own + child) / 2**20:.2f} GiB (ru_maxrss of hdrconv {maxrss / 2**20:.2f} GiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
