"""The options of a conversion (``hdrconv itm``), kept free of heavy imports so that the command line
can show the defaults without loading torch."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_TEMPLATE = "{stem}.hdr10.mkv"
"""How a batch names its outputs (``--name-template``)."""


@dataclass(frozen=True)
class ConvertOptions:
    """Everything ``hdrconv itm`` is told, from the command line to the pipeline
    (:func:`hdrconv.pipeline.run.run_itm`), which decides from ``inputs`` and ``output`` whether it
    converts one file or runs a batch."""

    inputs: tuple[str, ...]
    """Files, folders or globs; ``-`` is standard input. Without ``output``: exactly IN OUT."""
    output: str | None = None
    """``-o``: the output folder of a batch, or the file (or ``-``, standard output) of one input."""
    preset: str | None = None
    """Preset name or TOML file (:mod:`hdrconv.pipeline.presets`); None: the default preset."""
    model: str | None = None
    crf: float | None = None
    x265_preset: str | None = None
    peak: float | None = None
    """Mastering display peak, cd/m2. ``model``, ``crf``, ``x265_preset``, ``peak``: None keeps the
    preset's value."""
    recursive: bool = False
    name_template: str = DEFAULT_TEMPLATE
    skip_existing: bool = False
    jobs: int = 1
    """Files converted at once. ``recursive`` to ``jobs``: batches only."""
    device: str = "auto"
    force: bool = False
    allow_truncated: bool = False
    quiet: bool = False
    verbose: bool = False
    json_lines: bool = False
    """One JSON event per line on standard output (``--json``)."""
    debug: bool = False
    """Tracebacks of the files that fail in a batch (the global ``--debug``)."""
