"""How a run talks to its user: a rich progress bar on a terminal, JSON lines for pipelines, or nothing.

The library emits events (dicts with an ``event`` key: ``start``, ``progress``, ``warning``, ``done``,
``error``); a reporter renders them. Human output goes to stderr so stdout stays clean for ``--json``.
"""

from __future__ import annotations

import json
import sys

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn


class Reporter:
    def __init__(self, quiet: bool = False, verbose: bool = False):
        self.quiet, self.verbose = quiet, verbose
        self.err = Console(stderr=True, highlight=False, soft_wrap=True)

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


class RichReporter(Reporter):
    """Progress bar (frames, fps, ETA) when stderr is a terminal; a summary line at the end."""

    def __init__(self, quiet: bool = False, verbose: bool = False):
        super().__init__(quiet, verbose)
        self.progress: Progress | None = None
        self.task = None

    def on_start(self, e: dict) -> None:
        self.info(f"{e['input']}: {e['width']}x{e['height']} {e['fps']:.3f} fps, colour: {e['colour']}")
        if self.quiet or not self.err.is_terminal:
            return
        self.progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TextColumn("{task.fields[fps]:.2f} fps"), TimeElapsedColumn(),
                                 TimeRemainingColumn(), console=self.err, transient=True)
        self.task = self.progress.add_task(e["model"], total=e["frames"], fps=0.0)
        self.progress.start()

    def on_progress(self, e: dict) -> None:
        if self.progress is not None:
            self.progress.update(self.task, completed=e["frames"], fps=e["fps"])

    def on_done(self, e: dict) -> None:
        self.close()
        if not self.quiet:
            self.err.print(f"{e['output']}: {e['frames']} frames in {e['seconds']:.1f} s ({e['fps']:.2f} fps), "
                           f"MaxCLL {e['max_cll']} cd/m2, MaxFALL {e['max_fall']} cd/m2", markup=False)

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
