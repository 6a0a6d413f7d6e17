"""Errors users see, with sysexits(3)-style exit codes.

Every failure a user can cause or meet is raised as :class:`HdrconvError`; the CLI prints its message as
one line (``hdrconv: error: ...``) and exits with its code. Anything else is a bug (exit 70).
"""

from __future__ import annotations

EX_OK = 0
EX_USAGE = 64  # bad command line, bad option value, bad preset
EX_DATAERR = 65  # input exists but is not usable SDR video (corrupt, audio-only, already HDR, ...)
EX_NOINPUT = 66  # input missing or unreadable
EX_SOFTWARE = 70  # internal error: a bug
EX_CANTCREAT = 73  # cannot create the output (exists without --force, directory not writable)
EX_IOERR = 74  # I/O error while reading or writing
EX_INTERRUPTED = 130  # Ctrl-C (128 + SIGINT)


class HdrconvError(Exception):
    """An error with a user-facing one-line message and an exit code."""

    code = EX_SOFTWARE

    def __init__(self, message: str, code: int | None = None):
        super().__init__(message)
        if code is not None:
            self.code = code


class UsageError(HdrconvError):
    code = EX_USAGE


class InputDataError(HdrconvError):
    code = EX_DATAERR


class InputMissingError(HdrconvError):
    code = EX_NOINPUT


class OutputError(HdrconvError):
    code = EX_CANTCREAT


class IOFailure(HdrconvError):
    code = EX_IOERR


class Interrupted(HdrconvError):
    """Ctrl-C: the run stopped and removed its temporary files."""

    code = EX_INTERRUPTED

    def __init__(self, message: str = "interrupted"):
        super().__init__(message)
