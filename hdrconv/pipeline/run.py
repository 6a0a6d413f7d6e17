"""What a conversion command does around :func:`convert`, given its :class:`ConvertOptions`: decide
between one file and a batch, resolve the preset and the flags, pick the device, build the model,
handle pipes (standard input/output, FIFOs), report progress, and run batches. What differs between
``hdrconv itm`` and ``hdrconv alt-exp`` is a :class:`Conversion` (:data:`ITM` here, the other in
:mod:`hdrconv.pipeline.altexp`).

The command line, the input and the output are checked before torch and colour-science are imported
(``hdrconv itm a.mp4 b.avi`` took 3.8-4.2 s of CPU, 6-9 s wall on a loaded 2-core machine, nearly all
of it those imports; the checks alone 0.3-0.4 s of CPU). So this module imports only light modules at
the top, and the conversion's own modules inside the functions that use them, after the checks.
"""

from __future__ import annotations

import glob
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from hdrconv.errors import EX_OK, HdrconvError, Interrupted, OutputError, UsageError
from hdrconv.io.paths import STDOUT, check_output, output_container
from hdrconv.io.probe import MediaInfo, probe
from hdrconv.io.stdin import STDIN, check_stdin, is_pipe, label, spooled
from hdrconv.pipeline import presets
from hdrconv.pipeline.options import ConvertOptions

if TYPE_CHECKING:
    from hdrconv.io.encode import EncodeSettings
    from hdrconv.models.base import Model
    from hdrconv.pipeline.convert import ConvertResult, Prepare


def build_model(name: str, device: str, task: str = "itm") -> Model:
    from hdrconv.models import registry
    from hdrconv.models.base import LearnedModel
    from hdrconv.models.engine import resolve_device, set_threads

    registry.check(name, task)
    m = registry.create(name)
    if isinstance(m, LearnedModel):
        m.require_trained()  # before any work: a network with random weights is never used
    d = resolve_device(device)
    if d.type == "cpu":
        # x265 encodes beside the model and needs cores too: torch gets half of them
        set_threads(max(1, (os.cpu_count() or 2) // 2))
    return m.to(d)


def convert_file(input: str, output: str, model: Model, settings: EncodeSettings, *, force: bool = False,
                 allow_truncated: bool = False, emit=lambda e: None, info: MediaInfo | None = None,
                 cancel: threading.Event | None = None, prepare: Prepare | None = None) -> ConvertResult:
    """:func:`convert`, with a piped input (``-``, standard input, or a FIFO) spooled to a temporary
    file first (see :mod:`hdrconv.io.stdin`) and ``-`` as output written to standard output."""
    from hdrconv.pipeline.convert import convert

    if not is_pipe(input):
        return convert(input, output, model, settings, force=force, allow_truncated=allow_truncated, emit=emit,
                       info=info, cancel=cancel, prepare=prepare)
    spool_dir = tempfile.gettempdir() if output == STDOUT else (str(Path(output).parent) or ".")
    with spooled(input, spool_dir) as spool:
        try:
            return convert(input, output, model, settings, force=force, allow_truncated=allow_truncated,
                           emit=emit, info=probe(str(spool)), cancel=cancel, prepare=prepare)
        except Interrupted:
            raise
        except HdrconvError as e:  # name the input as the user knows it, not by the spool file or '-'
            message = str(e).replace(str(spool), label(input))
            raise HdrconvError("standard input" + message[1:] if message.startswith("-:") else message,
                               e.code) from None


@dataclass(frozen=True)
class Conversion:
    """What a conversion command adds to the common run: how its model is built and how it converts
    one file."""

    build: Callable[[str, ConvertOptions, EncodeSettings], Model]
    """Model name, options, encoder settings -> the model, ready (one per worker of a batch)."""
    convert: Callable[[str, str, Model, EncodeSettings, ConvertOptions, Callable, threading.Event | None,
                       MediaInfo | None], ConvertResult]
    """One file: input, output, model, settings, options, emit, cancel, and the input's probe when it
    was already made (None: the conversion probes it)."""
    default_model: str | None = None
    """The model without ``--model``; None: the preset's."""
    task: str = "itm"
    """The task of the models it takes (:data:`hdrconv.models.registry.MODULES`)."""


def _itm_file(input: str, output: str, model: Model, settings: EncodeSettings, options: ConvertOptions, emit,
              cancel: threading.Event | None, info: MediaInfo | None = None) -> ConvertResult:
    return convert_file(input, output, model, settings, force=options.force,
                        allow_truncated=options.allow_truncated, emit=emit, cancel=cancel, info=info)


ITM = Conversion(build=lambda name, options, settings: build_model(name, options.device), convert=_itm_file)


def run_itm(options: ConvertOptions, conversion: Conversion = ITM) -> int:
    """``hdrconv itm`` (``hdrconv alt-exp`` with its :class:`Conversion`): one file (IN OUT, or one
    input that is neither a folder nor a glob with ``-o`` naming a file or ``-``) or else a batch into
    the folder ``-o``. Returns the exit code: 0 for one
    file, whose errors are raised (the CLI turns them into exit codes); :func:`batch.exit_code` for a
    batch. Ctrl-C, SIGTERM and SIGHUP anywhere raise :class:`Interrupted`."""
    if options.jobs < 1:
        raise UsageError(f"--jobs {options.jobs}: must be at least 1")
    try:
        if options.output is None:
            if len(options.inputs) != 2:
                raise UsageError("give IN OUT, or inputs and -o DIR (several inputs need an output folder)")
            run_itm_file(options.inputs[0], options.inputs[1], options, conversion)
            return EX_OK
        # -o names a file for one plain input when it has a suffix (-o x.mkv), else a folder (made if missing)
        one, output = options.inputs[0], options.output
        if len(options.inputs) == 1 and not Path(one).is_dir() and not glob.has_magic(one) and (
                output == STDOUT or (Path(output).suffix and not Path(output).is_dir())):
            run_itm_file(one, output, options, conversion)
            return EX_OK
        return run_itm_batch(options, conversion)
    except KeyboardInterrupt as e:  # outside a conversion: spooling a pipe, loading the model
        raise Interrupted.of(e) from None


def run_itm_file(input: str, output: str, options: ConvertOptions, conversion: Conversion = ITM) -> ConvertResult:
    """One file, ``input`` to ``output``, with ``options``. The input is checked before the output (a
    missing input is the news, not the existing output), both before the model is built."""
    if output == STDOUT and options.json_lines:
        raise UsageError("--json writes to standard output, which carries the video here; "
                         "write the video to a file to follow the events")
    presets.check_flags(options.preset, crf=options.crf, x265_preset=options.x265_preset, peak=options.peak)
    # the command line first: probing the input costs 0.1 s of a usage error's 0.5
    output_container(output)
    _check_model_flag(options, conversion)
    info = None
    if input == STDIN:
        check_stdin()
    elif not is_pipe(input):  # a pipe is read once, when spooled
        info = probe(input)
    check_output(input, output, options.force)
    model_name, settings = _resolve(options, conversion)
    from hdrconv.reporting import make_reporter

    reporter = make_reporter(options.json_lines, options.quiet, options.verbose)
    try:
        reporter({"event": "phase", "phase": "loading", "message": f"loading model {model_name}", "input": input})
        m = conversion.build(model_name, options, settings)
        return conversion.convert(input, output, m, settings, options, reporter, None, info)
    finally:
        reporter.close()


def run_itm_batch(options: ConvertOptions, conversion: Conversion = ITM) -> int:
    """Many files, ``options.inputs`` into the folder ``options.output``. Returns the exit code
    (:func:`batch.exit_code`)."""
    from hdrconv.pipeline import batch
    from hdrconv.reporting import BatchReporter, make_reporter, print_batch_summary

    o, out_dir = options, options.output
    if o.skip_existing and o.force:
        raise UsageError("--skip-existing and --force contradict each other: choose one")
    if out_dir == STDOUT:
        raise UsageError("several inputs cannot all go to standard output: -o DIR")
    if Path(out_dir).suffix.lower() in (".mkv", ".mp4"):
        raise UsageError(f"-o {out_dir}: several inputs need an output folder, not a file")
    _check_model_flag(o, conversion)
    model_name, settings = _resolve(o, conversion)
    preset_name = presets.load(o.preset).name
    todo = batch.plan(o.inputs, out_dir, o.name_template, recursive=o.recursive, model=model_name,
                      preset=preset_name)
    try:
        Path(out_dir).mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OutputError(f"-o {out_dir}: cannot create the output folder ({e.strerror})") from None
    # one model per worker: learned models keep buffers, and a model is never shared between threads
    models = [conversion.build(model_name, o, settings) for _ in range(min(o.jobs, len(todo)))]
    free = list(models)
    lock = threading.Lock()

    def convert_one(job: batch.Job, emit, cancel) -> ConvertResult:
        with lock:
            m = free.pop()
        try:
            return conversion.convert(job.input, job.output, m, settings, o, emit, cancel, None)
        finally:
            with lock:
                free.append(m)

    reporter = (make_reporter(o.json_lines, o.quiet, o.verbose) if o.json_lines
                else BatchReporter(len(todo), o.quiet, o.verbose))
    try:
        outcomes = batch.run_batch(todo, convert_one, workers=o.jobs, skip_existing=o.skip_existing,
                                   emit=reporter, debug=o.debug)
    finally:
        reporter.close()
    result = batch.summary(outcomes)
    if o.json_lines:
        reporter(result)
    elif not o.quiet:
        print_batch_summary(result["files"])
    return result["exit_code"]


def _check_model_flag(options: ConvertOptions, conversion: Conversion) -> None:
    """The model the command line names (or the command's default), checked before any preset is
    loaded or input probed: both import or read more than a usage error should wait for (see
    :mod:`hdrconv.models.registry`)."""
    from hdrconv.models import registry

    model = options.model or conversion.default_model
    if model is not None:
        registry.check(model, conversion.task)


def _resolve(options: ConvertOptions, conversion: Conversion) -> tuple[str, EncodeSettings]:
    """The model name and encoder settings: the preset, overridden by the flags (the model flag was
    checked by :func:`_check_model_flag`; a preset's own model is checked here)."""
    from hdrconv.models import registry

    name, settings = presets.resolve(options.preset, model=options.model or conversion.default_model,
                                     crf=options.crf, x265_preset=options.x265_preset, peak=options.peak)
    registry.check(name, conversion.task)
    return name, settings
