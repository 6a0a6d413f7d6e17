"""The options of a conversion (``hdrconv itm``), kept free of heavy imports so that the command line
can show the defaults without loading torch."""

from __future__ import annotations

from dataclasses import dataclass

from hdrconv.color.conventions import REFERENCE_WHITE_NITS

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


@dataclass(frozen=True)
class AltExpOptions(ConvertOptions):
    """``hdrconv alt-exp``: a conversion's options (``crf`` stays x265's, ``--x265-crf`` here) and how
    the alternating exposures are read (:mod:`hdrconv.pipeline.altexp`)."""

    exposures: int | None = None
    """``--exposures``: distinct exposures the footage must alternate; None: as found."""
    ev: str | None = None
    """``--ev``: the cycle in stops, in file order (``-2,0,2``); None: estimated."""
    camera_response: str | None = None
    """``--crf``: ``bt709``, ``srgb``, ``gamma:G`` or a CSV file; None: from the stream's transfer tag."""
    white_nits: float = REFERENCE_WHITE_NITS
    """cd/m2 of the EV 0 frame's clipping level (its diffuse white)."""
    exr_dir: str | None = None
    """Also write each frame's scene radiance there as EXR."""
