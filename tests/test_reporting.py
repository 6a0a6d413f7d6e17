"""What a conversion shows its user: the progress line on a terminal (phase, file name, percent,
labelled times), the summary line, and the ``phase`` events of ``--json``."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys

from rich.console import Console

from hdrconv.pipeline import run
from hdrconv.pipeline.options import ConvertOptions
from hdrconv import reporting
from hdrconv.reporting import RichReporter
from tests.media import make_clip


def test_progress_line_and_summary_on_a_terminal(tmp_path, monkeypatch):
    src = make_clip(tmp_path / "holiday clip.mp4", seconds=1.0)
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=160, color_system=None, soft_wrap=True)
    # run.py imports the reporter when a conversion starts (start-up stays light): patch it at its source
    monkeypatch.setattr(reporting, "make_reporter", lambda json_lines, quiet, verbose: RichReporter(console=console))
    out = tmp_path / "out.mkv"
    run.run_itm(ConvertOptions(inputs=(str(src), str(out)), model="bt2408", x265_preset="ultrafast"))
    drawn = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", screen.getvalue())
    line = next(text for text in drawn.splitlines() if "starting encoder" in text)
    assert re.search(r"holiday clip\.mp4 +starting encoder .* 0% +0/24 .* elapsed \d:\d\d:\d\d ETA", line), line
    assert "loading model bt2408" in drawn
    # the bar is full while the final file is written, and says so
    assert re.search(r"muxing audio .* 100% +24/24 .* elapsed \d:\d\d:\d\d ETA", drawn), drawn
    summary = drawn.strip().splitlines()[-1]
    assert re.fullmatch(rf"{re.escape(str(out))}: converted 1\.0 s of video \(24 frames\) in \d+\.\d s wall time "
                        r"\(\d+\.\d fps\), MaxCLL \d+ cd/m2, MaxFALL \d+ cd/m2", summary), summary


def test_json_phases_in_order(tmp_path):
    src = make_clip(tmp_path / "in.mkv", seconds=0.5, subtitles=True)
    out = tmp_path / "out.mkv"
    r = subprocess.run([sys.executable, "-m", "hdrconv.cli", "itm", str(src), str(out), "--json", "--model", "bt2408",
                        "--x265-preset", "ultrafast"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    events = [json.loads(line) for line in r.stdout.splitlines()]
    phases = [e for e in events if e["event"] == "phase"]
    # converting and finishing are seen when they last longer than the 0.25 s the main thread waits
    order = ["loading", "starting", "converting", "finishing", "muxing"]
    names = [e["phase"] for e in phases]
    assert names == sorted(names, key=order.index) and {"loading", "starting", "muxing"} <= set(names), names
    assert phases[-1]["message"] == "muxing audio/subtitles"
    assert all(e["input"] == str(src) for e in phases)
    kinds = [e["event"] if e["event"] != "phase" else e["phase"] for e in events]
    # the phases come in the conversion's order, the start event (with its fields) after the model loads
    assert kinds[:3] == ["loading", "start", "starting"] and kinds[-2:] == ["muxing", "done"]
    assert kinds.index("muxing") > max(i for i, k in enumerate(kinds) if k == "progress")
    done = events[-1]
    assert abs(done["duration"] - 0.5) < 0.01 and done["frames"] == 12 and done["seconds"] > 0
