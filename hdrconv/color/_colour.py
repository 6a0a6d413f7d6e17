"""Import colour-science without its start-up warnings about optional packages (matplotlib, ...)
that a command-line tool's users would only be confused by."""

import warnings

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import colour  # noqa: F401

__all__ = ["colour"]
