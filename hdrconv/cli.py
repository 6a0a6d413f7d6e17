"""Command line: Typer commands parse options and call the library. Nothing else lives here."""

from __future__ import annotations

import json
import os
import sys
import traceback
from typing import List, Optional

import typer
from typer.exceptions import Abort, Exit, TyperException

from hdrconv import __version__
from hdrconv.errors import EX_INTERRUPTED, EX_SOFTWARE, EX_USAGE, HdrconvError

app = typer.Typer(add_completion=True, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Turn ordinary video into real HDR10.")

_state = {"debug": False, "json": False}


def _version(value: bool):
    if value:
        typer.echo(f"hdrconv {__version__}")
        raise typer.Exit()


@app.callback()
def _main(debug: bool = typer.Option(False, "--debug", help="Show tracebacks of errors."),
          version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                       help="Print the version and exit.")):
    _state["debug"] = debug


@app.command()
def itm(
    input: str = typer.Argument(..., help="SDR video (any format FFmpeg reads)."),
    output: str = typer.Argument(..., help="HDR10 output, .mkv or .mp4."),
    model: str = typer.Option("bt2408", "--model", "-m", help="Conversion model (see `hdrconv models`)."),
    crf: float = typer.Option(18.0, help="x265 constant rate factor."),
    preset: str = typer.Option("medium", help="x265 preset (ultrafast ... veryslow)."),
    peak: float = typer.Option(1000.0, help="Mastering display peak, cd/m2 (ST 2086)."),
    device: str = typer.Option("auto", help="auto, cpu or cuda[:N]."),
    force: bool = typer.Option(False, "--force", "-f", help="Overwrite an existing output."),
    allow_truncated: bool = typer.Option(False, help="Convert what a truncated input holds instead of failing."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress, no summary."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Explain colour decisions."),
    json_lines: bool = typer.Option(False, "--json", help="One JSON event per line on stdout."),
):
    """Inverse tone mapping: SDR video -> HDR10 (HEVC Main 10, PQ, BT.2020).

    Example: hdrconv itm holiday.mp4 holiday-hdr.mkv
    """
    from hdrconv.pipeline.run import run_itm

    _state["json"] = json_lines
    run_itm(input, output, model=model, crf=crf, preset=preset, peak=peak, device=device, force=force,
            allow_truncated=allow_truncated, quiet=quiet, verbose=verbose, json_lines=json_lines)


@app.command()
def probe(input: str = typer.Argument(..., help="Video file to inspect."),
          json_out: bool = typer.Option(False, "--json", help="Print JSON instead of a table.")):
    """Show what hdrconv sees: streams, size, frame rate, frame count, colour tags, SDR/HDR verdict.

    Example: hdrconv probe holiday.mp4
    """
    from hdrconv.io.probe import probe as probe_file
    from hdrconv.reporting import print_probe

    _state["json"] = json_out
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


def main(argv: List[str] | None = None) -> int:
    """Entry point: run the app, turning every failure into one line and a sysexits code."""
    # torch's OpenMP threads must not spin between frames: x265 needs those cores
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    try:
        app(args=argv, standalone_mode=False)
        return 0
    except Exit as e:
        return e.exit_code
    except Abort:
        return _fail("interrupted", EX_INTERRUPTED)
    except TyperException as e:  # bad command line, from the option parser
        return _fail(e.format_message().replace("\n", " "), EX_USAGE)
    except HdrconvError as e:
        return _fail(str(e), e.code)
    except KeyboardInterrupt:
        return _fail("interrupted", EX_INTERRUPTED)
    except Exception as e:  # noqa: BLE001 - a bug: say so in one line, traceback with --debug
        return _fail(f"internal error: {type(e).__name__}: {e}", EX_SOFTWARE)


def _fail(message: str, code: int) -> int:
    if _state["debug"]:
        traceback.print_exc()
    if _state["json"]:
        sys.stdout.write(json.dumps({"event": "error", "code": code, "message": message}) + "\n")
        sys.stdout.flush()
    sys.stderr.write(f"hdrconv: error: {message}\n")
    return code


if __name__ == "__main__":
    sys.exit(main())
