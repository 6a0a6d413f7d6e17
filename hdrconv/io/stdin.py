"""Video from standard input (``-``).

A pipe can be read once, but a conversion reads its input twice: the decoder takes the video, and the
final mux (stage 2 of :mod:`hdrconv.io.encode`) takes the audio, subtitles, chapters and metadata from
the source again. So standard input is first copied to a hidden temporary file (beside the output, or
in the temporary directory when the output is standard output too), which is removed afterwards. It
needs as much free space as the input has bytes, and the conversion starts when the input has ended.

Since the input is complete on disk before it is opened, any format FFmpeg reads works; producers
write Matroska, NUT or MPEG-TS into a pipe (FFmpeg writes MP4 to a pipe only fragmented, with
``-movflags frag_keyframe+empty_moov``).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Iterator

from hdrconv.errors import IOFailure, OutputError, UsageError

STDIN = "-"


@contextmanager
def spooled_stdin(directory: str | Path, stream: BinaryIO | None = None) -> Iterator[Path]:
    """Copy standard input (or ``stream``) to a temporary file in ``directory``; yield its path."""
    stream = stream or sys.stdin.buffer
    if stream.isatty():
        raise UsageError("input '-' is standard input, which is a terminal: pipe a video into it")
    try:
        fd, name = tempfile.mkstemp(prefix=".stdin.hdrconv-", suffix=".spool", dir=directory)
    except OSError as e:
        raise OutputError(f"cannot create the spool file for standard input in {directory} ({e.strerror})") from None
    path = Path(name)
    try:
        with os.fdopen(fd, "wb") as f:
            try:
                shutil.copyfileobj(stream, f, 1 << 20)
            except OSError as e:
                raise IOFailure(f"reading standard input failed: {e.strerror or e}") from None
        yield path
    finally:
        path.unlink(missing_ok=True)
