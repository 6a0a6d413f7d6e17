"""The command line facing bad input: the right exit code, one clear line, no traceback, nothing left
at the output path (and no temporary file beside it)."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import av
import pytest

from hdrconv.cli import main
from tests.media import ffmpeg, make_clip
from tests.pipeline.test_convert import check_hdr10

HDRCONV = [sys.executable, "-m", "hdrconv.cli"]


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*HDRCONV, *args], capture_output=True, text=True, cwd=cwd, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])})


def assert_clean_failure(r: subprocess.CompletedProcess, code: int, words: str, out: Path) -> None:
    lines = r.stderr.strip().splitlines()
    assert r.returncode == code, (r.returncode, r.stderr)
    assert len(lines) == 1 and lines[0].startswith("hdrconv: error: "), r.stderr
    assert words in lines[0], lines[0]
    assert "Traceback" not in r.stderr + r.stdout
    assert not out.exists()
    assert not out.parent.is_dir() or not [p for p in out.parent.iterdir() if ".hdrconv" in p.name]


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    return make_clip(tmp_path_factory.mktemp("src") / "clip.mkv", seconds=0.5)


def test_missing_file(tmp_path):
    out = tmp_path / "out.mkv"
    assert_clean_failure(run("itm", str(tmp_path / "nope.mp4"), str(out)), 66, "no such file", out)


def test_zero_bytes(tmp_path):
    src = tmp_path / "empty.mp4"
    src.write_bytes(b"")
    out = tmp_path / "out.mkv"
    assert_clean_failure(run("itm", str(src), str(out)), 65, "empty", out)


def test_text_file_renamed_mp4(tmp_path):
    src = tmp_path / "notes.mp4"
    src.write_text("these are my notes, not a video\n" * 50)
    out = tmp_path / "out.mkv"
    assert_clean_failure(run("itm", str(src), str(out)), 65, "not a video file", out)


def test_audio_only(tmp_path):
    src = tmp_path / "song.m4a"
    ffmpeg("-f", "lavfi", "-i", "sine=d=0.5", "-c:a", "aac", str(src))
    out = tmp_path / "out.mkv"
    assert_clean_failure(run("itm", str(src), str(out)), 65, "no video stream", out)


def test_truncated_mp4(tmp_path):
    whole = make_clip(tmp_path / "whole.mp4", seconds=1)  # no faststart: the index is at the end
    src = tmp_path / "cut.mp4"
    src.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    out = tmp_path / "out.mkv"
    assert_clean_failure(run("itm", str(src), str(out)), 65, "cut.mp4", out)


def test_truncated_mkv_is_detected(tmp_path):
    whole = make_clip(tmp_path / "whole.mkv", seconds=2, audio=False)
    src = tmp_path / "cut.mkv"
    src.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    out = tmp_path / "out.mkv"
    r = run("itm", str(src), str(out), "--x265-preset", "ultrafast")
    assert_clean_failure(r, 65, "header promises", out)
    assert "truncated" in r.stderr
    # asked for, the partial conversion goes through with a warning
    r = run("itm", str(src), str(out), "--x265-preset", "ultrafast", "--allow-truncated")
    assert r.returncode == 0, r.stderr
    assert "warning" in r.stderr and "truncated" in r.stderr
    assert out.exists()


def test_odd_size_is_converted(tmp_path):
    src = make_clip(tmp_path / "odd.mkv", size="101x57", audio=False, vcodec="ffv1", pattern="testsrc",
                    seconds=0.25)
    out = tmp_path / "out.mkv"
    r = run("itm", str(src), str(out), "--x265-preset", "ultrafast")
    assert r.returncode == 0, r.stderr
    assert "odd size 101x57" in r.stderr and "Traceback" not in r.stderr
    assert out.exists()


def test_hdr_input_is_refused(tmp_path):
    src = tmp_path / "hdr.mkv"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=64x64:d=0.25",
           "-vf", "setparams=color_primaries=bt2020:color_trc=smpte2084:colorspace=bt2020nc",
           "-c:v", "libx264", "-preset", "ultrafast", str(src))
    out = tmp_path / "out.mkv"
    assert_clean_failure(run("itm", str(src), str(out)), 65, "already HDR", out)


def test_existing_output_needs_force(tmp_path, clip):
    out = tmp_path / "out.mkv"
    out.write_bytes(b"precious")
    r = run("itm", str(clip), str(out))
    assert r.returncode == 73 and "--force" in r.stderr and "Traceback" not in r.stderr
    assert out.read_bytes() == b"precious"
    r = run("itm", str(clip), str(out), "--force", "--x265-preset", "ultrafast")
    assert r.returncode == 0, r.stderr
    assert out.stat().st_size > 1000


def test_unwritable_output_directory(tmp_path, clip):
    if os.geteuid() == 0:  # root writes through permission bits; /proc refuses everyone
        out = Path("/proc/hdrconv-test-out.mkv")
    else:
        d = tmp_path / "ro"
        d.mkdir()
        d.chmod(0o555)
        out = d / "out.mkv"
    r = run("itm", str(clip), str(out))
    assert r.returncode == 73, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "cannot create files" in r.stderr
    assert not out.exists()


def test_missing_output_directory(tmp_path, clip):
    out = tmp_path / "no" / "such" / "out.mkv"
    assert_clean_failure(run("itm", str(clip), str(out)), 73, "does not exist", out)


@pytest.mark.parametrize("name", ["my clip.mkv", "it's \"quoted\".mkv", "-dash.mkv", "ünïcødé 視頻.mkv"])
def test_awkward_file_names(tmp_path, clip, name):
    src = tmp_path / name
    src.write_bytes(clip.read_bytes())
    out = tmp_path / ("out " + name)
    r = run("itm", "--x265-preset", "ultrafast", "--", name, out.name, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert out.exists()


def test_bad_extension_and_bad_options(tmp_path, clip):
    out = tmp_path / "out.avi"
    assert_clean_failure(run("itm", str(clip), str(out)), 64, ".mkv or .mp4", out)
    out = tmp_path / "out.mkv"
    assert_clean_failure(run("itm", str(clip), str(out), "--model", "nope"), 64, "unknown model", out)
    assert_clean_failure(run("itm", str(clip), str(out), "--crf", "soft"), 64, "crf", out)
    assert_clean_failure(run("itm", str(clip), str(out), "--crf", "99"), 64, "crf", out)


def test_directory_as_input(tmp_path):
    out = tmp_path / "out.mkv"
    assert_clean_failure(run("itm", str(tmp_path), str(out)), 66, "directory", out)


def test_json_error_event(tmp_path):
    out = tmp_path / "out.mkv"
    r = run("itm", str(tmp_path / "nope.mp4"), str(out), "--json")
    assert r.returncode == 66
    event = json.loads(r.stdout.strip().splitlines()[-1])
    assert event["event"] == "error" and event["code"] == 66


def _interrupt(args: list[str], folder: Path, encoding: int, settle: float = 0.0) -> str:
    """Run ``hdrconv ARGS``, send SIGINT once ``encoding`` temporary files are in ``folder`` (plus
    ``settle`` seconds), check the interrupted exit (130, one line, no traceback); return stderr."""
    # SIGINT at its default in the child: a suite started in the background by a non-interactive shell
    # inherits it ignored (bash's rule for background jobs, which Python and hdrconv keep), and then the
    # signal sent here did nothing (exit 0 after the whole clip, in two background runs)
    p = subprocess.Popen([*HDRCONV, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 60
    while len([q for q in folder.glob(".*") if ".hdrconv" in q.name]) < encoding:
        assert time.monotonic() < deadline and p.poll() is None, p.communicate()
        time.sleep(0.1)
    time.sleep(settle)
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=60)
    assert p.returncode == 130, err
    assert err.strip().splitlines()[-1] == "hdrconv: error: interrupted"
    assert "Traceback" not in err
    return err


def test_ctrl_c_mid_run(tmp_path):
    src = make_clip(tmp_path / "long.mkv", size="640x360", seconds=20, audio=False)
    out = tmp_path / "out.mkv"
    _interrupt(["itm", str(src), str(out), "--x265-preset", "slow"], tmp_path, encoding=1, settle=1)
    assert not out.exists()
    assert not [q for q in tmp_path.iterdir() if ".hdrconv" in q.name]


def test_ctrl_c_mid_batch_with_parallel_jobs(tmp_path):
    clips = [make_clip(tmp_path / f"{n}.mkv", size="640x360", seconds=10, audio=False) for n in "ab"]
    out = tmp_path / "out"
    _interrupt(["itm", *map(str, clips), "-o", str(out), "--jobs", "2", "--x265-preset", "slow"], out, encoding=2)
    assert list(out.iterdir()) == []


def test_probe_reports_colour_decision_and_verdict(tmp_path, clip):
    r = run("probe", str(clip), "--json")
    assert r.returncode == 0, r.stderr
    info = json.loads(r.stdout)
    assert info["verdict"] == "SDR" and info["width"] == 160 and info["frames_expected"] == 12
    assert info["colour"]["matrix_used"] == "bt601"  # untagged and under 720 lines
    assert [s["type"] for s in info["streams"]] == ["video", "audio"]


def test_models_lists_the_analytic_operators():
    r = run("models", "--json")
    assert r.returncode == 0, r.stderr
    rows = {m["name"]: m for m in json.loads(r.stdout)}
    assert {"bt2408", "bt2446a", "bt2446c"} <= set(rows)
    assert rows["bt2408"]["kind"] == "analytic" and rows["bt2408"]["params"] == 0


def test_help_names_the_default_model():
    # the help texts spell the default out (importing the presets would make every command slow to start)
    from hdrconv.pipeline.presets import DEFAULT_MODEL

    for command, words in (("itm", f"default: the preset's, {DEFAULT_MODEL})"),
                           ("preview", f"default: {DEFAULT_MODEL})"), ("demo", f"default: {DEFAULT_MODEL})")):
        r = run(command, "--help")
        assert r.returncode == 0 and words in " ".join(r.stdout.replace("│", " ").split()), r.stdout


def test_error_output_flags_do_not_outlive_their_command(tmp_path, capsys):
    from hdrconv.cli import main

    missing = str(tmp_path / "nope.mp4")
    assert main(["probe", missing, "--json"]) == 66
    assert json.loads(capsys.readouterr().out)["event"] == "error"
    # the same process: no JSON event left over from --json (nor from a parse error, before any command)
    assert main(["probe", missing]) == 66
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.startswith("hdrconv: error: ")
    assert main(["probe", missing, "--json"]) == 66
    capsys.readouterr()
    assert main(["probe", "--no-such-option"]) == 64
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.startswith("hdrconv: error: ")


def _children(pid: int) -> set[int]:
    """The processes ``pid`` started (Linux /proc)."""
    found = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            found |= {int(c) for c in (task / "children").read_text().split()}
        except FileNotFoundError:  # the thread ended between the listing and the read (fresh-clone CI run)
            continue
    return found


def _leftovers(folder: Path) -> list[str]:
    return [q.name for q in folder.iterdir() if ".hdrconv" in q.name]


def _signal_when(p: subprocess.Popen, folder: Path, pattern: str, signum: int) -> tuple[str, set[int]]:
    """Send ``signum`` to ``p`` once a file matching ``pattern`` is in ``folder``; return p's stderr
    and the processes it had started when the signal went."""
    deadline = time.monotonic() + 90
    while not list(folder.glob(pattern)):
        assert time.monotonic() < deadline and p.poll() is None, p.communicate()
        time.sleep(0.1)
    children = _children(p.pid)
    p.send_signal(signum)
    _, err = p.communicate(timeout=60)
    return err.decode() if isinstance(err, bytes) else err, children


def test_sigterm_mid_run_cleans_up_like_ctrl_c(tmp_path):
    src = make_clip(tmp_path / "long.mkv", size="640x360", seconds=10, audio=False)
    out = tmp_path / "out.mkv"
    p = subprocess.Popen([*HDRCONV, "itm", str(src), str(out), "--x265-preset", "slow"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True,
                         env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])})
    err, children = _signal_when(p, tmp_path, ".out.mkv.hdrconv-*.video.mkv", signal.SIGTERM)
    assert p.returncode == 143, err
    assert err.splitlines() == ["hdrconv: error: interrupted by SIGTERM"]
    assert not out.exists() and _leftovers(tmp_path) == []
    assert children and not [c for c in children if Path(f"/proc/{c}").exists()]  # ffmpeg ended too


def test_sighup_while_spooling_stdin_removes_the_spool(tmp_path, clip):
    out = tmp_path / "out.mkv"
    p = subprocess.Popen([*HDRCONV, "itm", "-", str(out)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE,
                         env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])})
    p.stdin.write(clip.read_bytes()[:1000])  # and the pipe stays open: the spool waits for more
    p.stdin.flush()
    err, _ = _signal_when(p, tmp_path, ".stdin.hdrconv-*.spool", signal.SIGHUP)
    assert p.returncode == 129, err
    assert err.splitlines() == ["hdrconv: error: interrupted by SIGHUP"]
    assert list(tmp_path.iterdir()) == []


def test_closed_stdin(tmp_path):
    out = tmp_path / "out.mkv"
    r = subprocess.run(["sh", "-c", 'exec "$@" <&-', "sh", *HDRCONV, "itm", "-", str(out)], capture_output=True,
                       text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])})
    assert_clean_failure(r, 66, "standard input, which is closed", out)
    assert list(tmp_path.iterdir()) == []


def test_output_name_as_long_as_the_folder_allows(tmp_path, clip, capsys):
    name_max = os.pathconf(tmp_path, "PC_NAME_MAX")
    out = tmp_path / ("é" * ((name_max - 4) // 2) + "x" * ((name_max - 4) % 2) + ".mkv")
    assert len(os.fsencode(out.name)) == name_max
    assert main(["itm", str(clip), str(out), "--x265-preset", "ultrafast", "-q"]) == 0, capsys.readouterr().err
    with av.open(str(out)) as c:
        assert sum(1 for _ in c.decode(c.streams.video[0])) == 12
    assert _leftovers(tmp_path) == []


def test_frames_too_small_for_x265(tmp_path, capsys):
    src = make_clip(tmp_path / "tiny.mkv", size="8x8", audio=False, vcodec="ffv1", pattern="testsrc", seconds=0.25)
    out = tmp_path / "out.mkv"
    assert main(["itm", str(src), str(out)]) == 65
    assert capsys.readouterr().err == (f"hdrconv: error: {src}: video is 8x8, too small for HEVC: x265 encodes "
                                       "frames of at least 16x16\n")
    assert not out.exists() and _leftovers(tmp_path) == []
    # 17x17 loses a row and a column (4:2:0): 16x16, the smallest x265 encodes
    src = make_clip(tmp_path / "small.mkv", size="17x17", audio=False, vcodec="ffv1", pattern="testsrc",
                    seconds=0.25)
    assert main(["itm", str(src), str(out), "--x265-preset", "ultrafast", "-q"]) == 0, capsys.readouterr().err
    with av.open(str(out)) as c:
        v = c.streams.video[0]
        assert (v.width, v.height) == (16, 16) and sum(1 for _ in c.decode(v)) == 6
    assert _leftovers(tmp_path) == []


def test_process_substitution_is_read_like_stdin(tmp_path):
    src = make_clip(tmp_path / "in.mkv", seconds=0.5)
    out = tmp_path / "out.mkv"
    cmd = " ".join(map(shlex.quote, [*HDRCONV, "itm"])) + f" <(cat {shlex.quote(str(src))}) {shlex.quote(str(out))}"
    r = subprocess.run(["bash", "-c", cmd + " --x265-preset ultrafast"], capture_output=True, text=True,
                       timeout=300, env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])})
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.mkv", "out.mkv"]  # no spool left

    def times(path: Path) -> list[float]:
        with av.open(str(path)) as c:
            return [f.time for f in c.decode(c.streams.video[0])]

    assert times(out) == pytest.approx(times(src), abs=1e-3) and len(times(out)) == 12
    check_hdr10(out, src)


def _light_main(*args: str) -> tuple[int, str, bool]:
    """``main(ARGS)`` in a fresh interpreter: its exit code, stderr, and whether torch or colour-science
    were imported."""
    code = ("import sys; from hdrconv.cli import main; rc = main(sys.argv[1:]); "
            "print(rc, any(m in sys.modules for m in ('torch', 'colour')))")
    r = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120,
                       env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])})
    rc, heavy = r.stdout.split()
    return int(rc), r.stderr, heavy == "True"


def test_command_line_input_and_output_are_checked_before_torch(tmp_path, clip):
    existing = tmp_path / "exists.mkv"
    existing.write_bytes(b"precious")
    assert _light_main("itm", str(clip), str(tmp_path / "b.avi")) == (
        64, f"hdrconv: error: {tmp_path / 'b.avi'}: output must end in .mkv or .mp4\n", False)
    # the missing input is the news, not the existing output
    rc, err, heavy = _light_main("itm", str(tmp_path / "nope.mp4"), str(existing))
    assert (rc, heavy) == (66, False) and "nope.mp4: no such file" in err
    rc, err, heavy = _light_main("itm", str(clip), str(existing))
    assert (rc, heavy) == (73, False) and "already exists (use --force to overwrite)" in err
    for flags, words in ((("--jobs", "0"), "--jobs 0: must be at least 1"),
                         (("--crf", "99"), "--crf 99.0: must be between 0 and 51"),
                         (("--preset", "nope"), "unknown preset 'nope'"),
                         (("--model", "nope"), "unknown model 'nope' (available: anchored, bt2408,"),
                         (("--model", "merge"), "model 'merge' is an alt-exp model, not for `hdrconv itm`")):
        rc, err, heavy = _light_main("itm", str(clip), str(tmp_path / "o.mkv"), *flags)
        assert (rc, heavy) == (64, False) and words in err
    assert existing.read_bytes() == b"precious" and sorted(p.name for p in tmp_path.iterdir()) == ["exists.mkv"]



def test_alt_exp_checks_its_command_line_before_torch(tmp_path, clip):
    for args, code, words in (((str(clip), str(tmp_path / "b.avi")), 64, "output must end in .mkv or .mp4"),
                              (("--ev=1", str(clip), str(tmp_path / "o.mkv")), 64, "--ev 1: a cycle of at least two"),
                              (("--crf", "gamma:99", str(clip), str(tmp_path / "o.mkv")), 64, "gamma:G wants a number"),
                              (("--model", "bt2408", str(clip), str(tmp_path / "o.mkv")), 64,
                               "model 'bt2408' is an itm model, not for `hdrconv alt-exp`"),
                              ((str(tmp_path / "nope.mp4"), str(tmp_path / "o.mkv")), 66, "nope.mp4: no such file")):
        rc, err, heavy = _light_main("alt-exp", *args)
        assert (rc, heavy) == (code, False) and words in err, (args, rc, err, heavy)
    assert sorted(p.name for p in tmp_path.iterdir()) == []

def test_preview_and_report_do_not_overwrite_a_picture_without_force(tmp_path, clip, capsys):
    png = tmp_path / "p.png"
    png.write_bytes(b"precious")
    for command in ("preview", "report"):
        assert main([command, str(clip), "-o", str(png)]) == 73
        assert capsys.readouterr().err == f"hdrconv: error: {png}: already exists (use --force to overwrite)\n"
        assert main([command, str(tmp_path / "nope.mkv"), "-o", str(png)]) == 66
        assert "nope.mkv: no such file" in capsys.readouterr().err
    assert png.read_bytes() == b"precious"
    assert main(["preview", str(clip), "-o", str(png), "--model", "bt2408", "--force"]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.png"]


def _help(capsys, monkeypatch, *args: str) -> list[str]:
    """``hdrconv ARGS --help`` at 100 columns: its lines with the panels' borders stripped."""
    from hdrconv.cli import main

    monkeypatch.setenv("COLUMNS", "100")
    assert main([*args, "--help"]) == 0
    return [line.strip("│╭╮╰╯─ ").rstrip() for line in capsys.readouterr().out.splitlines()]


def test_help_shows_flags_without_placeholders_and_an_example(capsys, monkeypatch):
    import typer

    from hdrconv.cli import app

    commands = typer.main.get_command(app).commands
    top = _help(capsys, monkeypatch)
    assert not [line for line in top if "<bool>" in line]
    assert any(line.startswith("hdrconv itm ") for line in top)  # the example
    for name, command in commands.items():
        # the first docstring line is the short help: one sentence, shown whole on the command's line
        short = command.help.splitlines()[0]
        assert short.endswith(".") and command.help.splitlines()[1:2] in ([], [""]), command.help
        assert [name, short] in [line.split(None, 1) for line in top], (name, short)
        lines = _help(capsys, monkeypatch, name)
        assert not [line for line in lines if "<bool>" in line], name
    itm = _help(capsys, monkeypatch, "itm")
    assert any(line.startswith("hdrconv itm ") for line in itm)
    # the help column starts where the longest option name leaves it, not squeezed to the right half
    force = next(line for line in itm if line.startswith("--force"))
    assert force.index("Overwrite existing outputs.") < 40, force


def test_python_m_hdrconv_is_the_command():
    r = subprocess.run([sys.executable, "-m", "hdrconv", "itm", "in.mp4", "out.avi"], capture_output=True, text=True,
                       timeout=60, env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])})
    assert (r.returncode, r.stderr) == (64, "hdrconv: error: out.avi: output must end in .mkv or .mp4\n")
