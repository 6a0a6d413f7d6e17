"""Errors users see, with sysexits(3)-style exit codes.

Every failure a user can cause or meet is raised as :class:`HdrconvError`; the CLI prints its message as
one line (``hdrconv: error: ...``) and exits with its code. Anything else is a bug (exit 70).
"""

from __future__ import annotations

import signal
from contextlib import contextmanager
from typing import Iterator

EX_OK = 0
EX_USAGE = 64  # bad command line, bad option value, bad preset
EX_DATAERR = 65  # input exists but is not usable SDR video (corrupt, audio-only, already HDR, ...)
EX_NOINPUT = 66  # input missing or unreadable
EX_SOFTWARE = 70  # internal error: a bug
EX_CANTCREAT = 73  # cannot create the output (exists without --force, directory not writable)
EX_IOERR = 74  # I/O error while reading or writing
EX_INTERRUPTED = 130  # Ctrl-C (128 + SIGINT); SIGTERM and SIGHUP: 143 and 129


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
    """Ctrl-C, SIGTERM or SIGHUP: the run stopped and removed its temporary files; the exit code is
    128 + the signal's number (130, 143, 129), as a shell reports a process the signal ended."""

    code = EX_INTERRUPTED

    def __init__(self, signum: int = signal.SIGINT):
        name = signal.Signals(signum).name
        super().__init__("interrupted" if signum == signal.SIGINT else f"interrupted by {name}", 128 + signum)

    @classmethod
    def of(cls, e: BaseException | None) -> "Interrupted":
        """The :class:`Interrupted` for a KeyboardInterrupt (:class:`Terminated` names its signal)."""
        return e if isinstance(e, Interrupted) else cls(getattr(e, "signum", signal.SIGINT))


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP (service managers, ``timeout``, a closed terminal), raised in the main thread
    as Ctrl-C raises KeyboardInterrupt, so that every clean-up Ctrl-C runs (temporary files, the
    stdin spool, ffmpeg children) runs for them too."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


TERMINATING_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


@contextmanager
def terminating_signals_interrupt() -> Iterator[None]:
    """While inside, SIGTERM and SIGHUP raise :class:`Terminated`; a second signal during the clean-up
    the first one started is ignored (the clean-up would stop half-way)."""
    raised = []

    def handler(signum, frame):
        if not raised:
            raised.append(signum)
            raise Terminated(signum)

    previous = {s: signal.signal(s, handler) for s in TERMINATING_SIGNALS}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
