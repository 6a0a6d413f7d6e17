"""The README's "Batch and pipelines" command lines, run as they are written."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from hdrconv.io.encode import FFMPEG
from tests.media import make_clip

ROOT = Path(__file__).resolve().parents[2]


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Batch and pipelines", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S).group(1)
    return [line for line in block.splitlines() if line.strip()]


def test_readme_batch_and_pipeline_commands(tmp_path):
    (tmp_path / "clips").mkdir()
    make_clip(tmp_path / "clips" / "a.mp4", size="64x36", seconds=1)
    make_clip(tmp_path / "clips" / "b.mkv", size="64x36", seconds=0.5, audio=False)
    # `hdrconv` and `ffmpeg` as a user has them: this checkout's CLI and the bundled FFmpeg
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "hdrconv").write_text(f'#!/bin/sh\nexec "{sys.executable}" -m hdrconv.cli "$@"\n')
    (bin_dir / "hdrconv").chmod(0o755)
    (bin_dir / "ffmpeg").symlink_to(FFMPEG)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "PYTHONPATH": str(ROOT)}
    for command in readme_commands():
        r = subprocess.run(["bash", "-o", "pipefail", "-c", command], cwd=tmp_path, env=env, capture_output=True,
                           text=True, timeout=300)
        assert r.returncode == 0, (command, r.stderr)
    assert sorted(p.name for p in (tmp_path / "hdr").iterdir()) == ["a.hdr10.mkv", "b.hdr10.mkv"]
    summary = json.loads((tmp_path / "events.jsonl").read_text().splitlines()[-1])
    assert summary["event"] == "summary" and summary["skipped"] == 2
    for name in ("piped.mkv", "streamed.mkv", "cmp.png", "report.png"):
        assert (tmp_path / name).stat().st_size > 1000, name
