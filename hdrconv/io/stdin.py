"""Video from a pipe: standard input (``-``), a named pipe (FIFO) or a shell's process substitution
(``<(cat a.mp4)``, a ``/dev/fd/N`` that is a pipe).

A pipe can be read once, but a conversion reads its input twice: the decoder takes the video, and the
final mux (stage 2 of :mod:`hdrconv.io.encode`) takes the audio, subtitles, chapters and metadata from
the source again. So the pipe is first copied to a hidden temporary file (beside the output, or in the
temporary directory when the output is standard output), which is removed afterwards. It needs as
much free space as the input has bytes, and the conversion starts when the input has ended.

Since the input is complete on disk before it is opened, any format FFmpeg reads works; producers
write Matroska, NUT or MPEG-TS into a pipe (FFmpeg writes MP4 to a pipe only fragmented, with
``-movflags frag_keyframe+empty_moov``).

Standard library only: the command line checks its input here before torch is imported.
"""

from __future__ import annotations

import os
import shutil
import stat
import sys
import tempfile
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import BinaryIO, Iterator

from hdrconv.errors import InputMissingError, IOFailure, OutputError, UsageError

STDIN = "-"


def is_pipe(path: str) -> bool:
    """Whether ``path`` is read through a pipe: ``-`` or a FIFO."""
    if path == STDIN:
        return True
    try:
        return stat.S_ISFIFO(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False


def label(path: str) -> str:
    """How messages name a piped input."""
    return "standard input" if path == STDIN else path


def check_stdin() -> None:
    """Standard input can carry a video: it is open (not ``<&-``) and not a terminal."""
    if sys.stdin is None:  # Python's stdin when file descriptor 0 was closed at start-up
        raise InputMissingError("input '-' is standard input, which is closed: pipe a video into it")
    if sys.stdin.isatty():
        raise UsageError("input '-' is standard input, which is a terminal: pipe a video into it")


@contextmanager
def spooled(path: str, directory: str | Path, stream: BinaryIO | None = None) -> Iterator[Path]:
    """Copy the pipe ``path`` (``-``: standard input, or ``stream`` when given) to a temporary file in
    ``directory``; yield its path."""
    if path == STDIN and stream is None:
        check_stdin()
        stream = sys.stdin.buffer
    try:
        fd, name = tempfile.mkstemp(prefix=".stdin.hdrconv-" if path == STDIN else ".pipe.hdrconv-",
                                    suffix=".spool", dir=directory)
    except OSError as e:
        raise OutputError(f"cannot create the spool file for {label(path)} in {directory} ({e.strerror})") from None
    spool = Path(name)
    try:
        with os.fdopen(fd, "wb") as f:
            try:
                source = stream or open(path, "rb")
            except OSError as e:
                raise InputMissingError(f"{path}: cannot open ({e.strerror})") from None
            with source if stream is None else nullcontext():
                try:
                    shutil.copyfileobj(source, f, 1 << 20)
                except OSError as e:
                    raise IOFailure(f"reading {label(path)} failed: {e.strerror or e}") from None
        yield spool
    finally:
        spool.unlink(missing_ok=True)
