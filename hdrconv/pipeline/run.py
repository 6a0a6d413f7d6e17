"""What a conversion command does around :func:`convert`: pick the device, build the model and the
encoder settings, report progress."""

from __future__ import annotations

from hdrconv.color.conventions import MasteringDisplay
from hdrconv.errors import UsageError
from hdrconv.io.encode import EncodeSettings
from hdrconv.models import registry
from hdrconv.models.base import LearnedModel
from hdrconv.pipeline.convert import ConvertResult, convert
from hdrconv.pipeline.tiling import resolve_device
from hdrconv.reporting import make_reporter


def run_itm(input: str, output: str, *, model: str, crf: float, preset: str, peak: float, device: str,
            force: bool, allow_truncated: bool, quiet: bool, verbose: bool, json_lines: bool) -> ConvertResult:
    if not 100 <= peak <= 10000:
        raise UsageError(f"--peak {peak}: must be between 100 and 10000 cd/m2")
    if crf < 0 or crf > 51:
        raise UsageError(f"--crf {crf}: must be between 0 and 51")
    m = registry.create(model)
    if m.task != "itm":
        raise UsageError(f"model {model!r} is an {m.task} model, not for `hdrconv itm`")
    if isinstance(m, LearnedModel):
        m.require_trained()  # before any work: a network with random weights is never used
    m.to(resolve_device(device))
    settings = EncodeSettings(crf=crf, preset=preset, mastering=MasteringDisplay(max_nits=peak))
    reporter = make_reporter(json_lines, quiet, verbose)
    try:
        return convert(input, output, m, settings, force=force, allow_truncated=allow_truncated, emit=reporter)
    finally:
        reporter.close()
