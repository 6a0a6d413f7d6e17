"""What a conversion command does around :func:`convert`: resolve the preset and the flags, pick the
device, build the model, handle standard input/output, report progress, and run batches."""

from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path

from hdrconv.errors import HdrconvError, Interrupted, OutputError, UsageError
from hdrconv.io.encode import EncodeSettings
from hdrconv.io.probe import probe
from hdrconv.io.stdin import STDIN, spooled_stdin
from hdrconv.models import registry
from hdrconv.models.base import LearnedModel, Model
from hdrconv.pipeline import batch, presets
from hdrconv.pipeline.convert import STDOUT, ConvertResult, convert
from hdrconv.models.engine import resolve_device, set_threads
from hdrconv.reporting import BatchReporter, make_reporter, print_batch_summary


def build_model(name: str, device: str, task: str = "itm") -> Model:
    m = registry.create(name)
    if m.task != task:
        raise UsageError(f"model {name!r} is an {m.task} model, not for `hdrconv {task}`")
    if isinstance(m, LearnedModel):
        m.require_trained()  # before any work: a network with random weights is never used
    d = resolve_device(device)
    if d.type == "cpu":
        # x265 encodes beside the model and needs cores too: torch gets half of them
        set_threads(max(1, (os.cpu_count() or 2) // 2))
    return m.to(d)


def convert_file(input: str, output: str, model: Model, settings: EncodeSettings, *, force: bool = False,
                 allow_truncated: bool = False, emit=lambda e: None,
                 cancel: threading.Event | None = None) -> ConvertResult:
    """:func:`convert`, with ``-`` as input read from standard input (spooled to a temporary file first,
    see :mod:`hdrconv.io.stdin`) and ``-`` as output written to standard output."""
    if input != STDIN:
        return convert(input, output, model, settings, force=force, allow_truncated=allow_truncated, emit=emit,
                       cancel=cancel)
    spool_dir = tempfile.gettempdir() if output == STDOUT else (str(Path(output).parent) or ".")
    with spooled_stdin(spool_dir) as spool:
        try:
            return convert(STDIN, output, model, settings, force=force, allow_truncated=allow_truncated,
                           emit=emit, info=probe(str(spool)), cancel=cancel)
        except Interrupted:
            raise
        except HdrconvError as e:  # name the input as the user knows it, not by the spool file or '-'
            message = str(e).replace(str(spool), "standard input")
            raise HdrconvError("standard input" + message[1:] if message.startswith("-:") else message,
                               e.code) from None


def run_itm(input: str, output: str, *, preset: str | None = None, model: str | None = None,
            crf: float | None = None, x265_preset: str | None = None, peak: float | None = None,
            device: str = "auto", force: bool = False, allow_truncated: bool = False, quiet: bool = False,
            verbose: bool = False, json_lines: bool = False) -> ConvertResult:
    """One file: ``hdrconv itm IN OUT``. Errors are raised (the CLI turns them into exit codes)."""
    if output == STDOUT and json_lines:
        raise UsageError("--json writes to standard output, which carries the video here; "
                         "write the video to a file to follow the events")
    model_name, settings = presets.resolve(preset, model=model, crf=crf, x265_preset=x265_preset, peak=peak)
    m = build_model(model_name, device)
    reporter = make_reporter(json_lines, quiet, verbose)
    try:
        return convert_file(input, output, m, settings, force=force, allow_truncated=allow_truncated, emit=reporter)
    finally:
        reporter.close()


def run_itm_batch(inputs: list[str], out_dir: str, *, name_template: str = batch.DEFAULT_TEMPLATE,
                  recursive: bool = False, skip_existing: bool = False, jobs: int = 1, preset: str | None = None,
                  model: str | None = None, crf: float | None = None, x265_preset: str | None = None,
                  peak: float | None = None, device: str = "auto", force: bool = False,
                  allow_truncated: bool = False, quiet: bool = False, verbose: bool = False,
                  json_lines: bool = False, debug: bool = False) -> int:
    """Many files: ``hdrconv itm IN... -o DIR``. Returns the exit code (:func:`batch.exit_code`)."""
    if skip_existing and force:
        raise UsageError("--skip-existing and --force contradict each other: choose one")
    if jobs < 1:
        raise UsageError(f"--jobs {jobs}: must be at least 1")
    if out_dir == STDOUT:
        raise UsageError("several inputs cannot all go to standard output: -o DIR")
    if Path(out_dir).suffix.lower() in (".mkv", ".mp4"):
        raise UsageError(f"-o {out_dir}: several inputs need an output folder, not a file")
    model_name, settings = presets.resolve(preset, model=model, crf=crf, x265_preset=x265_preset, peak=peak)
    preset_name = presets.load(preset).name
    todo = batch.plan(inputs, out_dir, name_template, recursive=recursive, model=model_name, preset=preset_name)
    try:
        Path(out_dir).mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OutputError(f"-o {out_dir}: cannot create the output folder ({e.strerror})") from None
    # one model per worker: learned models keep buffers, and a model is never shared between threads
    models = [build_model(model_name, device) for _ in range(min(jobs, len(todo)))]
    free = list(models)
    lock = threading.Lock()

    def convert_one(job: batch.Job, emit, cancel) -> ConvertResult:
        with lock:
            m = free.pop()
        try:
            return convert_file(job.input, job.output, m, settings, force=force, allow_truncated=allow_truncated,
                                emit=emit, cancel=cancel)
        finally:
            with lock:
                free.append(m)

    reporter = make_reporter(json_lines, quiet, verbose) if json_lines else BatchReporter(len(todo), quiet, verbose)
    try:
        outcomes = batch.run_batch(todo, convert_one, workers=jobs, skip_existing=skip_existing, emit=reporter,
                                   debug=debug)
    finally:
        reporter.close()
    result = batch.summary(outcomes)
    if json_lines:
        reporter(result)
    elif not quiet:
        print_batch_summary(result["files"])
    return result["exit_code"]
