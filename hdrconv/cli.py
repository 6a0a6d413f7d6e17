"""Command line: Typer commands parse options and call the library. Nothing else lives here."""

from __future__ import annotations

import json
import os
import sys
import traceback
from dataclasses import dataclass
from typing import List, Optional

import typer
from typer.exceptions import Abort, Exit, TyperException

from hdrconv import __version__
from hdrconv.errors import EX_SOFTWARE, EX_USAGE, HdrconvError, Interrupted, terminating_signals_interrupt
from hdrconv.data.family import TONE_MAPPERS
from hdrconv.pipeline.options import AltExpOptions, ConvertOptions
from hdrconv.pipeline.presets import DEFAULT_MODEL
from hdrconv.train.config import TrainConfig

class _Group(typer.core.TyperGroup):
    """typer 0.29 prints a type placeholder after every option in help, ``<bool>`` after flags (its own
    ``--help`` too), though a flag takes no value; an empty metavar shows none. Done for every command
    here, as the command is looked up, so that no command can forget it."""

    def format_help(self, ctx, formatter):
        _no_flag_placeholders(self, ctx)
        super().format_help(ctx, formatter)

    def resolve_command(self, ctx, args):
        name, command, rest = super().resolve_command(ctx, args)
        if command is not None:
            _no_flag_placeholders(command, ctx)
        return name, command, rest


def _no_flag_placeholders(command, ctx) -> None:
    for param in (*command.params, command.get_help_option(ctx)):
        if getattr(param, "is_flag", False) and param.metavar is None:
            param.metavar = ""


_EXAMPLES = """\b
Examples:
  hdrconv itm holiday.mp4 holiday-hdr10.mkv      convert one file
  hdrconv itm clips/ -o hdr/ --preset archival   convert a folder
  hdrconv preview holiday.mp4 --at 10            look at one frame first
"""

app = typer.Typer(cls=_Group, add_completion=True, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Turn ordinary video into real HDR10.", epilog=_EXAMPLES)



@dataclass
class ErrorOutput:
    """How :func:`main` reports a failure: with a traceback (the global ``--debug``) and as a JSON
    ``error`` event on stdout (a command's ``--json``, once its options are parsed). typer's context
    object: :func:`main` hands it to the app, the callback and the commands set it."""

    debug: bool = False
    json: bool = False


def _version(value: bool):
    if value:
        typer.echo(f"hdrconv {__version__}")
        raise typer.Exit()


@app.callback()
def _main(ctx: typer.Context,
          debug: bool = typer.Option(False, "--debug", help="Show tracebacks of errors."),
          version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                       help="Print the version and exit.")):
    ctx.ensure_object(ErrorOutput).debug = debug


_ITM_EPILOG = """\b
Examples:
  hdrconv itm holiday.mp4 holiday-hdr10.mkv
  hdrconv itm clips/ -o hdr/ --recursive --skip-existing --preset archival
  ffmpeg -i in.avi -f matroska - | hdrconv itm - - > out.mkv

\b
Exit codes of a batch (several inputs, or -o DIR):
  0 every file converted or skipped; else the most serious failure:
  70 internal error > 74 I/O error > 73 cannot create an output >
  64 bad usage for a file > 66 input missing > 65 input not usable SDR video.
"""


# the options `itm` and `alt-exp` share, declared once (typer reads these defaults without changing them)
_OUTPUT = typer.Option(None, "--output", "-o", help="Output folder (batch) or file (.mkv/.mp4); '-' writes Matroska "
                                                    "to standard output.")
_PRESET = typer.Option(None, "--preset", "-p",
                       help="Preset name or TOML file (default hdr10-1000; see `hdrconv presets`).")
_X265_PRESET = typer.Option(None, "--x265-preset", help="x265 speed preset, ultrafast ... placebo (overrides the preset).")
_PEAK = typer.Option(None, help="Mastering display peak, cd/m2 (ST 2086; overrides the preset).")
_RECURSIVE = typer.Option(False, "--recursive", "-r", help="Look into subfolders of folder inputs.")
_NAME_TEMPLATE = typer.Option(ConvertOptions.name_template,
                              help="Batch output names: {stem} {name} {ext} {model} {preset}.")
_SKIP_EXISTING = typer.Option(False, "--skip-existing", help="Skip inputs whose output exists (resume).")
_DEVICE = typer.Option(ConvertOptions.device, help="auto, cpu or cuda[:N].")
_ALLOW_TRUNCATED = typer.Option(False, "--allow-truncated",
                                help="Convert what a truncated input holds instead of failing.")
_QUIET = typer.Option(False, "--quiet", "-q", help="No progress, no summary.")


@app.command(epilog=_ITM_EPILOG)
def itm(
    ctx: typer.Context,
    inputs: List[str] = typer.Argument(..., metavar="IN",
                                       help="SDR videos, folders or globs; '-' reads standard input. "
                                            "Without -o: exactly IN OUT."),
    output: Optional[str] = _OUTPUT,
    preset: Optional[str] = _PRESET,
    model: Optional[str] = typer.Option(None, "--model", "-m", help="Conversion model (see `hdrconv models`; "
                                                                    f"default: the preset's, {DEFAULT_MODEL})."),
    crf: Optional[float] = typer.Option(None, help="x265 constant rate factor (overrides the preset)."),
    x265_preset: Optional[str] = _X265_PRESET,
    peak: Optional[float] = _PEAK,
    recursive: bool = _RECURSIVE,
    name_template: str = _NAME_TEMPLATE,
    skip_existing: bool = _SKIP_EXISTING,
    jobs: int = typer.Option(ConvertOptions.jobs, "--jobs", "-j", help="Files converted at once. Keep 1 on CPU: x265 already uses "
                                                      "every core; more helps with small files or a GPU model."),
    device: str = _DEVICE,
    force: bool = typer.Option(False, "--force", "-f", help="Overwrite existing outputs."),
    allow_truncated: bool = _ALLOW_TRUNCATED,
    quiet: bool = _QUIET,
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Explain colour decisions."),
    json_lines: bool = typer.Option(False, "--json", help="One JSON event per line on stdout (batch: with the "
                                                           "file name, and a summary event at the end)."),
):
    """Inverse tone mapping: SDR video -> HDR10 (HEVC Main 10, PQ, BT.2020).

    One file: hdrconv itm IN OUT. Many: hdrconv itm IN... -o DIR (files, folders, globs).

    A batch ends with a summary table; one bad file never stops it.

    Progress and messages go to stderr: with '-' as output, stdout carries only the video.
    """
    from hdrconv.pipeline.run import run_itm

    ctx.obj.json = json_lines
    code = run_itm(ConvertOptions(
        inputs=tuple(inputs), output=output, preset=preset, model=model, crf=crf, x265_preset=x265_preset,
        peak=peak, recursive=recursive, name_template=name_template, skip_existing=skip_existing, jobs=jobs,
        device=device, force=force, allow_truncated=allow_truncated, quiet=quiet, verbose=verbose,
        json_lines=json_lines, debug=ctx.obj.debug))
    if code:
        raise typer.Exit(code)


_ALT_EXP_EPILOG = """\b
Examples:
  hdrconv alt-exp bracketed.mp4 bracketed-hdr10.mkv --exposures 2
  hdrconv alt-exp clip.mov out.mkv --ev=-2,0,2 --crf srgb --exr-dir frames/
  hdrconv alt-exp clips/ -o hdr/ --exposures 3 --json

\b
Levels: the EV 0 frame's clipping level (its diffuse white) at --white-nits
(203 cd/m2), highlights rolled off to the preset's mastering peak (BT.2390).
Exit codes as `hdrconv itm`; footage that does not alternate as --exposures
and --ev say: 65.
"""


@app.command(name="alt-exp", epilog=_ALT_EXP_EPILOG)
def alt_exp(
    ctx: typer.Context,
    inputs: List[str] = typer.Argument(..., metavar="IN",
                                       help="Alternating-exposure videos, folders or globs; '-' reads standard "
                                            "input. Without -o: exactly IN OUT."),
    output: Optional[str] = _OUTPUT,
    exposures: Optional[int] = typer.Option(None, "--exposures", "-e",
                                            help="Distinct exposures the footage alternates (2 or 3); refused "
                                                 "if it does not."),
    ev: Optional[str] = typer.Option(None, "--ev", help="The cycle in stops, in file order, e.g. --ev=-2,2 or "
                                                        "--ev=-2,0,2 (default: estimated from the frames)."),
    camera_response: Optional[str] = typer.Option(None, "--crf",
                                                  help="Camera response to invert: bt709, srgb, gamma:G or a CSV "
                                                       "file of code value,relative exposure (default: from the "
                                                       "stream's transfer tag; untagged: gamma:2.2)."),
    white_nits: float = typer.Option(AltExpOptions.white_nits, "--white-nits",
                                     help="cd/m2 of the EV 0 frame's clipping level (diffuse white)."),
    exr_dir: Optional[str] = typer.Option(None, "--exr-dir",
                                          help="Also write each frame as linear scene-referred EXR (float16, "
                                               "BT.709; 1.0 = EV 0 clipping level): DIR/STEM.NNNNNN.exr."),
    preset: Optional[str] = _PRESET,
    model: Optional[str] = typer.Option(None, "--model", "-m",
                                        help="Model (see `hdrconv models --task alt-exp`; default: merge)."),
    x265_crf: Optional[float] = typer.Option(None, "--x265-crf",
                                             help="x265 constant rate factor (overrides the preset)."),
    x265_preset: Optional[str] = _X265_PRESET,
    peak: Optional[float] = _PEAK,
    recursive: bool = _RECURSIVE,
    name_template: str = _NAME_TEMPLATE,
    skip_existing: bool = _SKIP_EXISTING,
    jobs: int = typer.Option(AltExpOptions.jobs, "--jobs", "-j", help="Files converted at once."),
    device: str = _DEVICE,
    force: bool = typer.Option(False, "--force", "-f", help="Overwrite existing outputs (and EXR frames)."),
    allow_truncated: bool = _ALLOW_TRUNCATED,
    quiet: bool = _QUIET,
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Explain the exposure cycle, camera response "
                                                                "and colour decisions."),
    json_lines: bool = typer.Option(False, "--json", help="One JSON event per line on stdout; the start event "
                                                           "carries the exposure cycle."),
):
    """HDR10 from alternating-exposure footage, one HDR frame per input frame.

    HEVC Main 10, PQ, BT.2020, as `itm` writes. Frames alternate exposures (EV-2, EV+2, ... or EV-2, EV0, EV+2, ...).

    Each is merged with its neighbours after undoing the camera response.

    Without --ev, the cycle and which frame starts it are estimated from the first frames.
    """
    from hdrconv.pipeline.altexp import run_alt_exp

    ctx.obj.json = json_lines
    code = run_alt_exp(AltExpOptions(
        inputs=tuple(inputs), output=output, preset=preset, model=model, crf=x265_crf, x265_preset=x265_preset,
        peak=peak, recursive=recursive, name_template=name_template, skip_existing=skip_existing, jobs=jobs,
        device=device, force=force, allow_truncated=allow_truncated, quiet=quiet, verbose=verbose,
        json_lines=json_lines, debug=ctx.obj.debug, exposures=exposures, ev=ev, camera_response=camera_response,
        white_nits=white_nits, exr_dir=exr_dir))
    if code:
        raise typer.Exit(code)


@app.command()
def preview(input: str = typer.Argument(..., help="SDR video."),
            at: str = typer.Option("0", "--at", help="Time of the frame: seconds or HH:MM:SS(.sss)."),
            output: str = typer.Option("preview.png", "--output", "-o", help="PNG to write."),
            model: Optional[str] = typer.Option(None, "--model", "-m",
                                                help=f"Conversion model (see `hdrconv models`; default: {DEFAULT_MODEL})."),
            device: str = typer.Option("auto", help="auto, cpu or cuda[:N]."),
            force: bool = typer.Option(False, "--force", "-f", help="Overwrite an existing PNG.")):
    """Look before you convert: one frame as SDR, as HDR and as a false-colour luminance map.

    One PNG with the SDR frame, the HDR result tone-mapped for an SDR screen, and a false-colour map
    of the HDR luminance (100/203/400/1000 cd/m2 bands).

    Example: hdrconv preview holiday.mp4 --at 00:00:10 -o cmp.png --model bt2446a
    """
    from hdrconv.eval.preview import parse_time, preview as make_preview
    from hdrconv.pipeline.run import build_model

    make_preview(input, parse_time(at), build_model(model or DEFAULT_MODEL, device), output, force)


@app.command()
def report(ctx: typer.Context,
           input: str = typer.Argument(..., help="HDR10 video (e.g. an output of hdrconv itm)."),
           output: str = typer.Option("report.png", "--output", "-o", help="PNG to write."),
           force: bool = typer.Option(False, "--force", "-f", help="Overwrite an existing PNG."),
           json_out: bool = typer.Option(False, "--json", help="Also print the figures as JSON.")):
    """Plot an HDR10 video's light levels over time, with its signalled metadata.

    Per-frame max, 99th percentile and mean light level (cd/m2), with the signalled MaxCLL, MaxFALL
    and mastering peak marked.

    Example: hdrconv report holiday-hdr10.mkv -o report.png
    """
    from hdrconv.eval.report import report as make_report

    ctx.obj.json = json_out
    figures = make_report(input, output, force)
    if json_out:
        typer.echo(json.dumps(figures))


@app.command(name="presets")
def presets_(json_out: bool = typer.Option(False, "--json", help="Print JSON instead of a table.")):
    """List the built-in presets and their settings.

    Use one with `hdrconv itm --preset NAME`, or write your own TOML file and pass its path.

    Example: hdrconv presets
    """
    from hdrconv.pipeline.presets import all_presets
    from hdrconv.reporting import print_presets

    rows = [p.as_dict() for p in all_presets()]
    if json_out:
        typer.echo(json.dumps(rows))
    else:
        print_presets(rows)


@app.command()
def probe(ctx: typer.Context,
          input: str = typer.Argument(..., help="Video file to inspect."),
          json_out: bool = typer.Option(False, "--json", help="Print JSON instead of a table.")):
    """Show what hdrconv sees in a file: streams, size, timing, colour tags, SDR/HDR verdict.

    Example: hdrconv probe holiday.mp4
    """
    from hdrconv.io.probe import probe as probe_file
    from hdrconv.reporting import print_probe

    ctx.obj.json = json_out
    info = probe_file(input)
    if json_out:
        typer.echo(json.dumps(info.to_dict(), default=str))
    else:
        print_probe(info)


@app.command()
def models(json_out: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
           task: Optional[str] = typer.Option(None, help="Only models of this task (itm, alt-exp).")):
    """List the conversion models: kind, parameters, weights.

    Example: hdrconv models --json
    """
    from hdrconv.models import registry
    from hdrconv.reporting import print_models

    rows = registry.describe(task)
    if json_out:
        typer.echo(json.dumps(rows))
    else:
        print_models(rows)


@app.command()
def demo(folder: str = typer.Argument("hdrconv-demo", help="Folder for the sample clip and its HDR10 version."),
         model: Optional[str] = typer.Option(None, "--model", "-m", help=f"Conversion model (default: {DEFAULT_MODEL})."),
         force: bool = typer.Option(False, "--force", "-f", help="Overwrite earlier demo files."),
         quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress, no summary.")):
    """Make a 3-second SDR sample clip and convert it to HDR10.

    The clip is an FFmpeg test pattern with a tone and subtitles.

    Example: hdrconv demo && hdrconv probe hdrconv-demo/sample-hdr10.mkv
    """
    from pathlib import Path

    from hdrconv.io.sample import make_sample
    from hdrconv.pipeline.run import run_itm

    Path(folder).mkdir(parents=True, exist_ok=True)
    src = Path(folder) / "sample-sdr.mp4"
    make_sample(src)
    run_itm(ConvertOptions(inputs=(str(src), str(Path(folder) / "sample-hdr10.mkv")), model=model, force=force,
                           quiet=quiet))


@app.command(name="eval")
def eval_(ctx: typer.Context,
          model: List[str] = typer.Option(..., "--model", "-m", help="Model to evaluate (repeat for several)."),
          data: str = typer.Option(..., "--data", help="Folder of scene-linear HDR images (EXR, .hdr)."),
          mode: str = typer.Option("images", help="images, or clips (adds flicker and warping error)."),
          weights: List[str] = typer.Option([], "--weights", help="NAME=FILE: weights for a learned model."),
          exposures: int = typer.Option(2, help="Alternating exposures (2 or 3) for alt-exp models."),
          protocol: str = typer.Option("all", help="all, in-family (the training's conditions) or held-out "
                                                   "(exposure, curves and grading no training draws)."),
          json_out: bool = typer.Option(False, "--json", help="Print JSON instead of a table.")):
    """Compare models on SDR/HDR10 pairs synthesised from HDR images.

    The images: the validation split of ../shared/hdr, or every image of another folder. Prints
    mean ± std of PSNR-PQ, SSIM, ΔE_ITP, PSNR-μ under the training's conditions (in-family), and per
    held-out group.

    Example: hdrconv eval --model bt2408 --model bt2446a --data ../shared/hdr
    """
    from hdrconv.errors import UsageError
    from hdrconv.eval.runner import evaluate, print_held_out_table, print_table
    from hdrconv.models import registry

    ctx.obj.json = json_out
    files = dict(w.partition("=")[::2] for w in weights)
    if any(not f for f in files.values()):
        raise UsageError("--weights wants NAME=FILE")
    models = [registry.create(m, weights=files[m]) if m in files else registry.create(m) for m in model]
    rows = evaluate(models, data, mode, exposures, protocol)
    if json_out:
        typer.echo(json.dumps([r.as_dict() for r in rows]))
    else:
        kind = "clips" if models[0].task == "alt-exp" else mode
        print_table(rows, title=f"{data} ({kind}, in-family)")
        print_held_out_table(rows, title=f"{data} ({kind}, held-out)")


@app.command()
def train(ctx: typer.Context,
          model: str = typer.Argument(..., help="Learned model to train (see hdrconv models)."),
          data: str = typer.Option(..., "--data", help="Folder of scene-linear HDR images (EXR, .hdr)."),
          out: str = typer.Option(..., "--out", help="Weights file to write; OUT.json (card) and OUT.ckpt go beside."),
          steps: Optional[int] = typer.Option(None, help="Budget in optimiser steps."),
          minutes: Optional[float] = typer.Option(None, help="Budget in minutes of training."),
          batch_size: int = typer.Option(TrainConfig.batch_size, help="Patches per step."),
          patch: int = typer.Option(TrainConfig.patch, help="Patch size in pixels."),
          lr: float = typer.Option(TrainConfig.lr, help="Peak learning rate (AdamW, cosine decay)."),
          weight_decay: float = typer.Option(TrainConfig.weight_decay, help="AdamW weight decay."),
          loss: str = typer.Option(TrainConfig.loss, help="l1 or charbonnier, on the PQ signal."),
          seed: int = typer.Option(TrainConfig.seed, help="Seed of weights and data."),
          log_every: int = typer.Option(TrainConfig.log_every, help="Steps between log lines."),
          checkpoint_every: int = typer.Option(TrainConfig.checkpoint_every, help="Steps between checkpoints."),
          graphics: int = typer.Option(TrainConfig.graphics, help="Procedural graphics scenes (bars, ramps, "
                                                                   "saturated colours) added to the training images."),
          arch: List[str] = typer.Option([], "--arch", help="KEY=VALUE network argument override (repeat)."),
          tone_mappers: str = typer.Option(",".join(TONE_MAPPERS), "--tone-mappers",
                                           help="SDR tone-mapper family to draw from (comma-separated subset)."),
          capture: str = typer.Option(TrainConfig.capture, "--capture",
                                      help="alt-exp clips: realistic (three camera responses, shot noise, "
                                           "H.264) or clean (gamma 2.2, read noise, uncompressed)."),
          init: Optional[str] = typer.Option(None, "--init", help="Start from these weights (fine-tune) instead "
                                                                   "of random ones."),
          bf16: bool = typer.Option(False, "--bf16", help="bfloat16 autocast for forward/backward (about 2x "
                                                          "faster on CPUs with AVX512-BF16)."),
          resume: bool = typer.Option(False, "--resume", help="Continue from OUT.ckpt (budget is the total)."),
          force: bool = typer.Option(False, "--force", help="Replace an existing OUT."),
          revalidate: bool = typer.Option(False, "--revalidate", help="Train nothing: re-run the validation of "
                                                                      "OUT's weights under today's evaluation "
                                                                      "protocol and rewrite its model card."),
          json_out: bool = typer.Option(False, "--json", help="Print the model card as JSON at the end.")):
    """Train a learned model on SDR/HDR10 pairs synthesised from HDR images.

    Validates against the analytic models; writes the weights and a model card.

    Example: hdrconv train irnet --data ../shared/hdr --out irnet.pt --minutes 120
    """
    from hdrconv.train.loop import parse_arch, revalidate as run_revalidation, train as run_training

    ctx.obj.json = json_out
    config = TrainConfig(model=model, data=data, out=out, steps=steps, minutes=minutes, batch_size=batch_size,
                         patch=patch, lr=lr, weight_decay=weight_decay, loss=loss, seed=seed, log_every=log_every,
                         checkpoint_every=checkpoint_every, graphics=graphics,
                         tone_mappers=tuple(t.strip() for t in tone_mappers.split(",") if t.strip()),
                         capture=capture, init=init, bf16=bf16, arch=parse_arch(arch))
    def log(line: str) -> None:
        typer.echo(line, err=True)

    card = run_revalidation(config, log) if revalidate else run_training(config, resume=resume, force=force, log=log)
    if json_out:
        typer.echo(json.dumps(card))

def main(argv: List[str] | None = None) -> int:
    """Entry point: run the app, turning every failure into one line and a sysexits code."""
    # torch's OpenMP threads must not spin between frames: x265 needs those cores
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    errors = ErrorOutput()
    try:
        with terminating_signals_interrupt():
            code = app(args=argv, standalone_mode=False, obj=errors)  # click returns the code of a typer.Exit here
        return code if isinstance(code, int) else 0
    except Exit as e:
        return e.exit_code
    except Abort as e:  # click's name for a KeyboardInterrupt (or Terminated) outside a conversion
        interrupted = Interrupted.of(e.__context__)
        return _fail(errors, str(interrupted), interrupted.code)
    except TyperException as e:  # bad command line, from the option parser
        return _fail(errors, e.format_message().replace("\n", " "), EX_USAGE)
    except HdrconvError as e:
        return _fail(errors, str(e), e.code)
    except KeyboardInterrupt as e:
        interrupted = Interrupted.of(e)
        return _fail(errors, str(interrupted), interrupted.code)
    except Exception as e:  # noqa: BLE001 - a bug: say so in one line, traceback with --debug
        return _fail(errors, f"internal error: {type(e).__name__}: {e}", EX_SOFTWARE)


def _fail(errors: ErrorOutput, message: str, code: int) -> int:
    if errors.debug:
        traceback.print_exc()
    if errors.json:
        sys.stdout.write(json.dumps({"event": "error", "code": code, "message": message}) + "\n")
        sys.stdout.flush()
    sys.stderr.write(f"hdrconv: error: {message}\n")
    return code


def run() -> None:
    """The ``hdrconv`` command: :func:`main`, then exit without the interpreter's teardown.

    With torch, scipy and colour-science loaded (2,100 modules, 210,000 objects) the teardown took
    2.0-2.4 s after the work was done, against 0.1 s for ``os._exit`` (a shared 2-core machine, load
    6-8). Nothing needs it: every command has closed its files and removed its temporary ones
    before :func:`main` returns, and what is buffered on stdout and stderr is flushed here.
    """
    code = main()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (BrokenPipeError, OSError, ValueError):  # a reader that went away, or a closed stream
            pass
    os._exit(code)


if __name__ == "__main__":
    run()
