"""Many inputs in one command: expand files, folders and globs, name the outputs, convert each file,
and say at the end what happened to every one of them.

One bad file never stops the batch: its error is reported and the next file goes on. The exit code is
that of the most serious failure (:func:`exit_code`). Ctrl-C stops the whole batch: running
conversions remove their temporary files, and the files already finished stay.
"""

from __future__ import annotations

import glob
import threading
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from hdrconv.errors import (EX_CANTCREAT, EX_DATAERR, EX_IOERR, EX_NOINPUT, EX_OK, EX_SOFTWARE, EX_USAGE,
                            HdrconvError, InputMissingError, Interrupted, UsageError)
from hdrconv.io.paths import CONTAINERS
from hdrconv.pipeline.convert import ConvertResult, Emit
from hdrconv.pipeline.options import DEFAULT_TEMPLATE

VIDEO_SUFFIXES = frozenset({".mp4", ".m4v", ".mkv", ".mov", ".avi", ".webm", ".ts", ".mts", ".m2ts", ".mpg",
                            ".mpeg", ".wmv", ".flv", ".nut", ".y4m", ".ogv", ".3gp", ".mxf", ".dv"})
"""What counts as a video when a folder is given (files named explicitly or by a glob are always tried)."""

SEVERITY = (EX_SOFTWARE, EX_IOERR, EX_CANTCREAT, EX_USAGE, EX_NOINPUT, EX_DATAERR)
"""Exit codes of failed files, most serious first: a bug, then the disk and the output folder (which
threaten every file), then the inputs themselves (which concern only those files)."""


@dataclass(frozen=True)
class Job:
    input: str
    output: str


@dataclass
class Outcome:
    input: str
    output: str
    status: str
    """``ok``, ``skipped`` (output existed, ``--skip-existing``) or ``failed``."""
    code: int = EX_OK
    message: str = ""
    result: ConvertResult | None = None

    def as_dict(self) -> dict:
        d = {"file": self.input, "output": self.output, "status": self.status, "code": self.code,
             "message": self.message}
        if self.result is not None:
            r = self.result
            d.update(frames=r.frames, fps=round(r.fps, 3), max_cll=r.light.max_cll, max_fall=r.light.max_fall)
        return d


def expand_inputs(args: Iterable[str], recursive: bool = False) -> list[tuple[Path, Path]]:
    """Files named by ``args`` with the folder (relative to the output folder) each one goes to.

    A folder gives the videos in it (by suffix; with ``recursive`` also those in its subfolders, which
    keep their place under the output folder); a glob (``*.mp4``, ``**`` with ``recursive``) gives the
    files it matches; anything else is taken as a file name, and a missing one fails in its own
    conversion like any other bad input (so does a glob that matches nothing). Hidden files (hdrconv's own temporary files) are left out.
    """
    found: list[tuple[Path, Path]] = []
    for a in args:
        p = Path(a)
        if p.is_dir():
            files = p.rglob("*") if recursive else p.iterdir()
            videos = sorted(f for f in files if f.is_file() and f.suffix.lower() in VIDEO_SUFFIXES
                            and not any(part.startswith(".") for part in f.relative_to(p).parts))
            found += [(f, f.parent.relative_to(p)) for f in videos]
        elif glob.has_magic(a):
            matches = sorted(Path(m) for m in glob.glob(a, recursive=recursive))
            files = [m for m in matches if m.is_file() and not m.name.startswith(".")]
            found += [(f, Path(".")) for f in files] or [(p, Path("."))]
        else:
            found.append((p, Path(".")))
    return found


def check_template(template: str) -> None:
    """``--name-template``: fields ``{stem}``, ``{name}``, ``{ext}``, ``{model}``, ``{preset}``; a file
    name ending in .mkv or .mp4."""
    try:
        example = template.format(stem="clip", name="clip.mp4", ext="mp4", model="m", preset="p")
    except (KeyError, IndexError) as e:
        raise UsageError(f"--name-template {template!r}: unknown field {e} "
                         "(known: {stem}, {name}, {ext}, {model}, {preset})") from None
    except ValueError as e:
        raise UsageError(f"--name-template {template!r}: {e}") from None
    if "/" in example or "\\" in example:
        raise UsageError(f"--name-template {template!r}: must be a file name, not a path")
    if Path(example).suffix.lower() not in CONTAINERS:
        raise UsageError(f"--name-template {template!r}: must end in .mkv or .mp4")


def plan(args: Iterable[str], out_dir: str, template: str = DEFAULT_TEMPLATE, *, recursive: bool = False,
         model: str = "", preset: str = "") -> list[Job]:
    """The jobs of a batch: one per input, its output named by ``template`` in ``out_dir``."""
    check_template(template)
    args = list(args)
    if "-" in args:
        raise UsageError("'-' (standard input) converts to one output: hdrconv itm - OUT")
    jobs = []
    for src, sub in expand_inputs(args, recursive):
        name = template.format(stem=src.stem, name=src.name, ext=src.suffix.lstrip("."), model=model,
                               preset=preset)
        jobs.append(Job(str(src), str(Path(out_dir) / sub / name)))
    if not jobs:
        raise InputMissingError(f"no video files in {', '.join(args)}"
                                + ("" if recursive else " (--recursive looks into subfolders)"))
    # a finished output of an earlier run, found again in the input folder, is not an input
    outputs = {Path(j.output).resolve() for j in jobs}
    jobs = [j for j in jobs if Path(j.input).resolve() not in outputs]
    seen: dict[Path, str] = {}
    for j in jobs:
        key = Path(j.output).resolve()
        if key in seen:
            raise UsageError(f"{seen[key]} and {j.input} would both be written to {j.output}; "
                             "use a --name-template with {ext} or {name}")
        seen[key] = j.input
    return jobs


ConvertOne = Callable[[Job, Emit, threading.Event], ConvertResult]


def run_batch(jobs: list[Job], convert_one: ConvertOne, *, workers: int = 1, skip_existing: bool = False,
              emit: Emit = lambda e: None, debug: bool = False) -> list[Outcome]:
    """Convert every job with ``convert_one(job, emit, cancel)``, ``workers`` at a time.

    Events of each file carry its name (``file``); a file whose output exists is skipped when
    ``skip_existing``. Returns the outcomes in job order; Ctrl-C cancels the running conversions (they
    clean up) and raises :class:`Interrupted`.
    """
    cancel = threading.Event()
    outcomes: list[Outcome | None] = [None] * len(jobs)
    emit_lock = threading.Lock()

    def emit_for(job: Job) -> Emit:
        def tagged(event: dict) -> None:
            with emit_lock:
                emit({**event, "file": job.input})
        return tagged

    def one(i: int, job: Job) -> None:
        tagged = emit_for(job)
        if skip_existing and Path(job.output).exists():
            outcomes[i] = Outcome(job.input, job.output, "skipped", message="output exists")
            tagged({"event": "skipped", "output": job.output, "reason": "output exists"})
            return
        try:
            Path(job.output).parent.mkdir(parents=True, exist_ok=True)
            outcomes[i] = Outcome(job.input, job.output, "ok", result=convert_one(job, tagged, cancel))
        except Interrupted:
            raise
        except HdrconvError as e:
            outcomes[i] = Outcome(job.input, job.output, "failed", e.code, str(e))
        except OSError as e:  # creating the output's folder
            outcomes[i] = Outcome(job.input, job.output, "failed", EX_CANTCREAT, f"{job.output}: {e.strerror or e}")
        except Exception as e:  # noqa: BLE001 - a bug in one file must not cost the others
            if debug:
                import traceback

                traceback.print_exc()
            outcomes[i] = Outcome(job.input, job.output, "failed", EX_SOFTWARE,
                                  f"internal error: {type(e).__name__}: {e}")
        if outcomes[i].status == "failed":
            tagged({"event": "error", "code": outcomes[i].code, "message": outcomes[i].message})

    if workers <= 1:
        for i, job in enumerate(jobs):
            one(i, job)
    else:
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="batch")
        futures: list[Future] = [pool.submit(one, i, job) for i, job in enumerate(jobs)]
        try:
            pending = set(futures)
            while pending:
                # a timeout keeps the main thread responsive to Ctrl-C
                done, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
                for f in done:
                    f.result()
        except (KeyboardInterrupt, Interrupted) as e:
            cancel.set()
            for f in futures:
                f.cancel()
            pool.shutdown(wait=True)
            raise Interrupted.of(e) from None
        pool.shutdown(wait=True)
    return [o for o in outcomes if o is not None]


def exit_code(outcomes: list[Outcome]) -> int:
    """0 when every file was converted or skipped, else the most serious failure's code (:data:`SEVERITY`)."""
    codes = {o.code for o in outcomes if o.status == "failed"}
    for code in SEVERITY:
        if code in codes:
            return code
    return max(codes, default=EX_OK)


def summary(outcomes: list[Outcome]) -> dict:
    """The ``summary`` event: counts, the exit code and every file's outcome."""
    count = {s: sum(o.status == s for o in outcomes) for s in ("ok", "skipped", "failed")}
    return {"event": "summary", **count, "exit_code": exit_code(outcomes), "files": [o.as_dict() for o in outcomes]}
