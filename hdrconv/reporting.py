"""How a run talks to its user: a rich progress bar on a terminal, JSON lines for pipelines, or nothing.

The library emits events (dicts with an ``event`` key: ``phase``, ``start``, ``progress``, ``warning``,
``done``, ``error``); a reporter renders them. A ``phase`` event says what a conversion is doing when no
frame moves: ``loading`` (the model), ``starting`` (decoder and encoder, until the first frame is
encoded), ``converting``, ``finishing`` (every frame handed to x265, which encodes its last ones),
``muxing`` (the final file, with the source's audio and subtitles); its ``message`` says it in words. Human output goes to stderr so stdout stays clean for ``--json``.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TaskProgressColumn, TextColumn,
                           TimeElapsedColumn, TimeRemainingColumn)


def file_name(path: str) -> str:
    """How a progress line names an input."""
    return "standard input" if path == "-" else Path(path).name


def _columns() -> tuple:
    """One line per file: name, phase, bar, percent, frames, fps, elapsed time and ETA, labelled."""
    return (TextColumn("[bold]{task.description}"), TextColumn("{task.fields[phase]}"), BarColumn(bar_width=20),
            TaskProgressColumn(), MofNCompleteColumn(), TextColumn("{task.fields[fps]:.1f} fps"),
            TextColumn("elapsed"), TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn())


class Reporter:
    def __init__(self, quiet: bool = False, verbose: bool = False, console: Console | None = None):
        self.quiet, self.verbose = quiet, verbose
        self.err = console or Console(stderr=True, highlight=False, soft_wrap=True)

    def __call__(self, event: dict) -> None:
        getattr(self, "on_" + event["event"], lambda e: None)(event)

    def close(self) -> None:
        pass

    def on_warning(self, e: dict) -> None:
        if not self.quiet:
            self.err.print(f"hdrconv: warning: {e['message']}", markup=False)

    def info(self, message: str) -> None:
        if self.verbose and not self.quiet:
            self.err.print(message, markup=False)

    def describe_start(self, e: dict) -> None:
        """``--verbose``: what the conversion decided about its input (``start`` event)."""
        self.info(f"{e['input']}: {e['width']}x{e['height']} {e['fps']:.3f} fps, colour: {e['colour']}")
        if "exposure_cycle" in e:
            c = e["exposure_cycle"]
            ev = ", ".join(f"{s:+g}" for s in c["ev"])
            self.info(f"{e['input']}: exposure cycle {{{ev}}} EV from frame {c['phase']} ({c['source']}); "
                      f"camera response {e['crf']} ({e['crf_source']})")


class RichReporter(Reporter):
    """A progress line (see :func:`_columns`) when stderr is a terminal, from the file's first event on;
    a summary line at the end, with the wall time since the reporter was made (model loading included)
    and the duration of the video converted."""

    def __init__(self, quiet: bool = False, verbose: bool = False, console: Console | None = None):
        super().__init__(quiet, verbose, console)
        self.progress: Progress | None = None
        self.task = None
        self._began = time.monotonic()

    def _line(self, e: dict) -> bool:
        """Make the progress line at the first event; whether there is one."""
        if self.progress is None and not self.quiet and self.err.is_terminal:
            self.progress = Progress(*_columns(), console=self.err, transient=True)
            self.task = self.progress.add_task(file_name(e["input"]), total=None, fps=0.0, phase="")
            self.progress.start()
        return self.progress is not None

    def on_phase(self, e: dict) -> None:
        if self._line(e):
            self.progress.update(self.task, phase=e["message"])
            self.progress.refresh()  # a phase is drawn even when it is shorter than a refresh period

    def on_start(self, e: dict) -> None:
        self.describe_start(e)
        if self._line(e):
            self.progress.update(self.task, total=e["frames"])

    def on_progress(self, e: dict) -> None:
        if self.progress is not None:
            self.progress.update(self.task, completed=e["frames"], fps=e["fps"])

    def on_done(self, e: dict) -> None:
        self.close()
        if not self.quiet:
            wall = time.monotonic() - self._began
            self.err.print(f"{e['output']}: converted {e['duration']:.1f} s of video ({e['frames']} frames) "
                           f"in {wall:.1f} s wall time ({e['fps']:.1f} fps), MaxCLL {e['max_cll']} cd/m2, "
                           f"MaxFALL {e['max_fall']} cd/m2", markup=False)

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None


class JsonReporter(Reporter):
    """One JSON object per line on stdout, for wrappers and pipelines."""

    def __call__(self, event: dict) -> None:
        sys.stdout.write(json.dumps(event, default=str) + "\n")
        sys.stdout.flush()


def make_reporter(json_lines: bool, quiet: bool, verbose: bool) -> Reporter:
    return JsonReporter(quiet, verbose) if json_lines else RichReporter(quiet, verbose)


def print_probe(info) -> None:
    """``hdrconv probe`` as a table on stdout."""
    from rich.table import Table

    c = info.colour
    t = Table(title=info.path, show_header=False)
    t.add_column(style="bold")
    t.add_column()
    t.add_row("container", info.format)
    t.add_row("video", f"{info.width}x{info.height} {info.pix_fmt} ({info.bit_depth}-bit), {info.fps:.3f} fps")
    if info.interlaced:
        t.add_row("scan", f"interlaced, {info.interlaced}")
    if info.rotation or info.hflip:
        t.add_row("display", f"turned {info.rotation:g}° counter-clockwise" + (", mirrored" if info.hflip else "")
                  + " (display matrix)")
    t.add_row("duration", f"{info.duration:.3f} s" if info.duration else "unknown")
    t.add_row("frames", str(info.frames_expected) if info.frames_expected else "unknown")
    t.add_row("colour tags", f"primaries {c.primaries}, transfer {c.transfer}, matrix {c.matrix}, range {c.range}")
    t.add_row("decoded as", f"matrix {c.matrix_used}, primaries {c.primaries_used}, range {c.range_used} ({c.decision})")
    for s in info.streams:
        extra = ", ".join(x for x in (s.language, s.title) if x)
        t.add_row(f"stream {s.index}", f"{s.type} {s.codec}" + (f" ({extra})" if extra else ""))
    t.add_row("verdict", f"HDR: {info.hdr_reason}" if info.hdr else "SDR")
    Console().print(t)


def print_models(rows: list[dict]) -> None:
    """``hdrconv models`` as a table on stdout."""
    from rich.table import Table

    t = Table(title="hdrconv models")
    for col in ("name", "task", "kind", "params", "weights", "summary"):
        t.add_column(col)
    for r in rows:
        weights = r["weights"] or ("-" if r["kind"] == "analytic" else "not trained")
        t.add_row(r["name"], r["task"], r["kind"], f"{r['params']:,}", weights, r["summary"])
    Console().print(t)


class BatchReporter(Reporter):
    """Several files, possibly at once: on a terminal a bar for the batch and a line per running file
    (see :func:`_columns`); warnings and errors as lines naming the file. Events come from worker
    threads."""

    def __init__(self, files: int, quiet: bool = False, verbose: bool = False, console: Console | None = None):
        super().__init__(quiet, verbose, console)
        self._lock = threading.Lock()
        self._tasks: dict[str, int] = {}
        self.progress: Progress | None = None
        if not quiet and self.err.is_terminal:
            self.progress = Progress(*_columns(), console=self.err, transient=True)
            self._batch = self.progress.add_task("files", total=files, fps=0.0, phase="")
            self.progress.start()

    def __call__(self, event: dict) -> None:
        with self._lock:
            super().__call__(event)

    def _print(self, message: str) -> None:
        if not self.quiet:
            (self.progress.console if self.progress else self.err).print(message, markup=False)

    def _finish(self, e: dict) -> None:
        if self.progress is not None:
            task = self._tasks.pop(e["file"], None)
            if task is not None:
                self.progress.remove_task(task)
            self.progress.advance(self._batch)

    def _task(self, file: str) -> int:
        if file not in self._tasks:
            self._tasks[file] = self.progress.add_task(file_name(file), total=None, fps=0.0, phase="")
        return self._tasks[file]

    def on_start(self, e: dict) -> None:
        self.describe_start(e)
        if self.progress is not None:
            self.progress.update(self._task(e["file"]), total=e["frames"])

    def on_phase(self, e: dict) -> None:
        if self.progress is not None:
            self.progress.update(self._task(e["file"]), phase=e["message"])

    def on_progress(self, e: dict) -> None:
        if self.progress is not None and e["file"] in self._tasks:
            self.progress.update(self._tasks[e["file"]], completed=e["frames"], fps=e["fps"])

    def on_warning(self, e: dict) -> None:
        self._print(f"hdrconv: warning: {e['file']}: {e['message']}")

    def on_done(self, e: dict) -> None:
        self._finish(e)

    def on_skipped(self, e: dict) -> None:
        self._print(f"{e['file']}: skipped ({e['reason']}: {e['output']})")
        self._finish(e)

    def on_error(self, e: dict) -> None:
        # always shown, like every error: --quiet silences progress, not failures
        (self.progress.console if self.progress else self.err).print(f"hdrconv: error: {e['message']}",
                                                                     markup=False)
        self._finish(e)

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None


def print_batch_summary(rows: list[dict]) -> None:
    """The table at the end of a batch, on stderr: one row per file (``Outcome.as_dict``)."""
    from rich.table import Table

    t = Table(title="hdrconv batch")
    for col, just in (("file", "left"), ("frames", "right"), ("fps", "right"), ("MaxCLL", "right"),
                      ("MaxFALL", "right"), ("status", "left")):
        t.add_column(col, justify=just)
    styles = {"ok": "green", "skipped": "yellow", "failed": "red"}
    for r in rows:
        message = r["message"].removeprefix(r["file"] + ": ")
        status = r["status"] if r["status"] != "failed" else f"failed ({r['code']}): {message}"
        t.add_row(r["file"], str(r.get("frames", "-")), f"{r['fps']:.2f}" if "fps" in r else "-",
                  str(r.get("max_cll", "-")), str(r.get("max_fall", "-")),
                  f"[{styles[r['status']]}]{escape(status)}[/]")
    Console(stderr=True, soft_wrap=False).print(t)


def print_presets(rows: list[dict]) -> None:
    """``hdrconv presets`` as a table on stdout (``Preset.as_dict`` rows)."""
    from rich.table import Table

    t = Table(title="hdrconv presets")
    for col in ("name", "model", "x265", "mastering display", "description"):
        t.add_column(col)
    for r in rows:
        m = r["mastering"]
        params = "".join(f" {k}={v}" for k, v in r["x265_params"].items())
        t.add_row(r["name"], r["model"], f"CRF {r['crf']:g}, {r['x265_preset']}{params}",
                  f"{m['primaries']}, {m['peak']:g} / {m['min']:g} cd/m2", r["description"])
    Console().print(t)
