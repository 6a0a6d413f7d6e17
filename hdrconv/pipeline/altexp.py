"""``hdrconv alt-exp``: HDR10 from alternating-exposure footage, through the conversion of ``itm``
(:func:`hdrconv.pipeline.run.run_itm` with :data:`ALT_EXP`): same encoder, metadata, stream
passthrough, batches, standard input/output, JSON events, Ctrl-C and ``--force``.

Per file, before any frame is converted (:func:`hdrconv.pipeline.altexp_convert.convert_alt_exp`):

- the camera response (``--crf``, else the stream's transfer tag, :mod:`hdrconv.color.crf`);
- the exposure cycle (``--ev``, else estimated from the first frames, :mod:`hdrconv.pipeline.exposures`),
  reported in the ``start`` event and by ``--verbose``.

Then each decoded frame is linearised with the response and re-encoded with gamma 2.2 (Chen et al.
2021, §3.1), marked with its exposure, and handed to the model (:data:`~hdrconv.models.base` alt-exp
domain). :class:`~hdrconv.pipeline.altexp_convert.SceneToDisplay` places the model's scene radiance for HDR10: the EV 0 clipping level
(its diffuse white) at ``--white-nits`` (203 cd/m2, BT.2408 reference white, by default), BT.2020
primaries, highlights above rolled off from the darkest frame's clipping level to the preset's
mastering peak with the BT.2390 EETF (:func:`hdrconv.data.grading.alt_exp_HDR10`, as the evaluation
grades the ground truth). With ``--exr-dir`` it also writes the radiance itself, one EXR per frame.

This module holds the command and its checks and imports no torch (a usage error comes back at once);
the per-file work is in :mod:`hdrconv.pipeline.altexp_convert`.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from hdrconv.color import crf as camera
from hdrconv.errors import UsageError
from hdrconv.io.probe import MediaInfo
from hdrconv.pipeline import exposures as cycles
from hdrconv.pipeline.options import AltExpOptions
from hdrconv.pipeline.run import Conversion, run_itm

if TYPE_CHECKING:
    from hdrconv.io.encode import EncodeSettings
    from hdrconv.pipeline.altexp_convert import SceneToDisplay
    from hdrconv.pipeline.convert import ConvertResult

DEFAULT_MODEL = "merge"
WHITE_NITS_RANGE = (50.0, 1000.0)


def _build(name: str, options: AltExpOptions, settings: EncodeSettings) -> SceneToDisplay:
    from hdrconv.pipeline.altexp_convert import build

    return build(name, options, settings)


def _convert(input: str, output: str, model: SceneToDisplay, settings: EncodeSettings, options: AltExpOptions,
             emit, cancel: threading.Event | None, info: MediaInfo | None = None) -> ConvertResult:
    from hdrconv.pipeline.altexp_convert import convert_alt_exp

    return convert_alt_exp(input, output, model, settings, options, emit, cancel, info)


ALT_EXP = Conversion(build=_build, convert=_convert, default_model=DEFAULT_MODEL, task="alt-exp")


def run_alt_exp(options: AltExpOptions) -> int:
    """``hdrconv alt-exp``: exit code as :func:`~hdrconv.pipeline.run.run_itm`."""
    if options.exposures is not None and options.exposures < 2:
        raise UsageError(f"--exposures {options.exposures}: alternating footage has at least 2 exposures")
    if options.ev is not None:
        cycles.given(cycles.parse_ev(options.ev), None, options.exposures)
    if options.camera_response:
        camera.parse(options.camera_response)
    return run_itm(options, ALT_EXP)
