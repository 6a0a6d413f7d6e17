"""Batches (folders, globs, templates, --skip-existing, --jobs, exit codes) and pipes (stdin, stdout),
through the command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import av
import pytest

from hdrconv.cli import main
from hdrconv.errors import EX_CANTCREAT, EX_DATAERR, EX_NOINPUT, EX_OK, EX_SOFTWARE
from hdrconv.pipeline.batch import Outcome, exit_code, plan
from tests.media import make_clip

HDRCONV = [sys.executable, "-m", "hdrconv.cli"]
ENV = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2]), "COLUMNS": "200"}
FAST = ("--preset", "fast-preview")


def run(*args: str, **kw) -> subprocess.CompletedProcess:
    if "stdout" not in kw:
        kw.setdefault("capture_output", True)
    return subprocess.run([*HDRCONV, *args], env=ENV, timeout=300, **kw)


def frames(path: Path) -> int:
    with av.open(str(path)) as c:
        return sum(1 for _ in c.decode(c.streams.video[0]))


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """Five small clips, one of them corrupt (text renamed .mp4)."""
    d = tmp_path_factory.mktemp("clips")
    for i, (suffix, audio) in enumerate([(".mp4", True), (".mkv", False), (".mov", True), (".mkv", True)]):
        make_clip(d / f"clip{i}{suffix}", size="64x36", seconds=0.25, audio=audio)
    (d / "broken.mp4").write_text("not a video\n" * 20)
    (d / "notes.txt").write_text("not an input: no video suffix")
    return d


def test_folder_with_a_corrupt_file_then_resume(tmp_path, folder):
    out = tmp_path / "hdr"
    r = run("itm", str(folder), "-o", str(out), *FAST, text=True)
    assert r.returncode == 65, r.stderr
    made = sorted(p.name for p in out.iterdir())
    assert made == ["clip0.hdr10.mkv", "clip1.hdr10.mkv", "clip2.hdr10.mkv", "clip3.hdr10.mkv"]
    assert all(frames(out / n) == 6 for n in made)
    errors = [line for line in r.stderr.splitlines() if line.startswith("hdrconv: error:")]
    assert len(errors) == 1 and "broken.mp4" in errors[0] and "Traceback" not in r.stderr
    # the summary table: every file, its light levels, and the failure
    assert "hdrconv batch" in r.stderr and "MaxCLL" in r.stderr and "failed (65)" in r.stderr
    assert sum(line.count(" ok ") for line in r.stderr.splitlines()) == 4

    # resume: the finished files are skipped, untouched; the JSON events name every file
    stamps = {n: (out / n).stat().st_mtime_ns for n in made}
    r = run("itm", str(folder), "-o", str(out), *FAST, "--skip-existing", "--json", text=True)
    assert r.returncode == 65, r.stderr
    events = [json.loads(line) for line in r.stdout.splitlines()]
    assert all("file" in e for e in events[:-1])
    skipped = sorted(Path(e["file"]).name for e in events if e["event"] == "skipped")
    assert skipped == ["clip0.mp4", "clip1.mkv", "clip2.mov", "clip3.mkv"]
    assert [Path(e["file"]).name for e in events if e["event"] == "error"] == ["broken.mp4"]
    summary = events[-1]
    assert summary["event"] == "summary" and (summary["ok"], summary["skipped"], summary["failed"]) == (0, 4, 1)
    assert summary["exit_code"] == 65
    assert stamps == {n: (out / n).stat().st_mtime_ns for n in made}


def test_glob_recursive_template_and_jobs(tmp_path):
    src = tmp_path / "src"
    (src / "day2").mkdir(parents=True)
    make_clip(src / "a.mp4", size="64x36", seconds=0.25, audio=False)
    make_clip(src / "day2" / "b.mp4", size="64x36", seconds=0.25, audio=False)
    out = tmp_path / "out"
    r = run("itm", str(src), "-o", str(out), "--recursive", "--jobs", "2", "--name-template", "{stem}-{model}.mp4",
            *FAST, "--json", text=True)
    assert r.returncode == 0, r.stderr
    assert (out / "a-anchored.mp4").is_file() and (out / "day2" / "b-anchored.mp4").is_file()  # the default model
    done = [json.loads(line) for line in r.stdout.splitlines() if '"done"' in line]
    assert sorted(Path(e["file"]).name for e in done) == ["a.mp4", "b.mp4"]
    # a glob, expanded by hdrconv (quoted from the shell); without --recursive ** is one level
    r = run("itm", str(src / "*.mp4"), "-o", str(tmp_path / "globbed"), *FAST, text=True)
    assert r.returncode == 0, r.stderr
    assert [p.name for p in (tmp_path / "globbed").iterdir()] == ["a.hdr10.mkv"]


@pytest.mark.parametrize("args, words", [
    (["a.mp4", "b.mp4", "c.mp4"], "several inputs need an output folder"),
    (["a.mp4", "b.mp4", "-o", "out.mkv"], "need an output folder, not a file"),
    (["a.mp4", "b.mp4", "-o", "-"], "standard output"),
    (["a.mp4", "-o", "d", "--name-template", "{base}.mkv"], "unknown field 'base'"),
    (["a.mp4", "-o", "d", "--name-template", "{stem}.avi"], "must end in .mkv or .mp4"),
    (["a.mp4", "-o", "d", "--skip-existing", "--force"], "contradict"),
    (["a.mp4", "a.mkv", "-o", "d"], "would both be written to"),
    (["a.mp4", "-o", "d", "--jobs", "0"], "--jobs 0"),
    (["a.mp4", "-", "--json"], "--json writes to standard output"),
])
def test_batch_usage_errors(tmp_path, monkeypatch, capsys, args, words):
    monkeypatch.chdir(tmp_path)
    assert main(["itm", *args]) == 64
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and words in lines[0], lines
    assert not (tmp_path / "d").exists()


def test_plan_leaves_out_outputs_of_an_earlier_run(tmp_path):
    make_clip(tmp_path / "a.mp4", size="64x36", seconds=0.1, audio=False)
    (tmp_path / "a.hdr10.mkv").write_bytes(b"converted before")
    jobs = plan([str(tmp_path)], str(tmp_path))
    assert [Path(j.input).name for j in jobs] == ["a.mp4"]


def test_exit_code_is_the_most_serious_failure():
    def o(status, code=0):
        return Outcome("in", "out", status, code)

    assert exit_code([o("ok"), o("skipped")]) == EX_OK
    assert exit_code([o("ok"), o("failed", EX_DATAERR)]) == EX_DATAERR
    assert exit_code([o("failed", EX_DATAERR), o("failed", EX_NOINPUT)]) == EX_NOINPUT
    assert exit_code([o("failed", EX_NOINPUT), o("failed", EX_CANTCREAT)]) == EX_CANTCREAT
    assert exit_code([o("failed", EX_CANTCREAT), o("failed", EX_SOFTWARE)]) == EX_SOFTWARE


@pytest.fixture(scope="module")
def piped_clip(tmp_path_factory) -> Path:
    # a second: the subtitles last 0.9 s, and a video shorter than its file reads as truncated
    return make_clip(tmp_path_factory.mktemp("pipe") / "in.mkv", size="64x36", seconds=1, subtitles=True)


def _check_hdr10_stream(path: Path, n: int) -> None:
    with av.open(str(path)) as c:
        assert c.format.name == "matroska,webm"
        v = c.streams.video[0]
        assert v.codec_context.name == "hevc" and [s.type for s in c.streams] == ["video", "audio", "subtitle"]
        f = next(c.decode(v))
        kinds = {str(s.type).split(".")[-1] for s in f.side_data}
        assert {"MASTERING_DISPLAY_METADATA", "CONTENT_LIGHT_LEVEL"} <= kinds
    assert frames(path) == n


def test_stdin_to_file(tmp_path, piped_clip):
    out = tmp_path / "out.mkv"
    with open(piped_clip, "rb") as src:
        r = run("itm", "-", str(out), *FAST, stdin=src, text=True)
    assert r.returncode == 0, r.stderr
    _check_hdr10_stream(out, 24)
    assert [p.name for p in tmp_path.iterdir()] == ["out.mkv"]  # the spool file is gone


def test_file_to_stdout_and_stdin_to_stdout(tmp_path, piped_clip):
    out = tmp_path / "out.mkv"
    with open(out, "wb") as sink:
        r = run("itm", str(piped_clip), "-", *FAST, stdout=sink, stderr=subprocess.PIPE, text=True)
    assert r.returncode == 0, r.stderr
    assert "MaxCLL" in r.stderr  # the summary line went to stderr
    _check_hdr10_stream(out, 24)
    both = tmp_path / "both.mkv"
    with open(piped_clip, "rb") as src, open(both, "wb") as sink:
        r = run("itm", "-", "-", *FAST, stdin=src, stdout=sink, stderr=subprocess.PIPE, text=True)
    assert r.returncode == 0, r.stderr
    _check_hdr10_stream(both, 24)


def test_bad_stdin_is_named_as_such(tmp_path):
    out = tmp_path / "out.mkv"
    r = run("itm", "-", str(out), input=b"no video here\n" * 10)
    err = r.stderr.decode()
    assert r.returncode == 65 and err.startswith("hdrconv: error: standard input:"), err
    assert list(tmp_path.iterdir()) == []
