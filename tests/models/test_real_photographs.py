"""Smoke test on real SDR photographs (scikit-image's bundled astronaut, chelsea, coffee, rocket): the
default model's HDR is not less colourful nor lower in contrast than the SDR it was made from
(``python bench/real_photographs.py`` prints the same measures for every model).

The check that caught the washed-out learned models: on these photographs the shipped ``fastitm``
gave a mean ICtCp chroma of 0.053 / 0.065 / 0.119 against the SDR's 0.074 / 0.085 / 0.161
(astronaut, chelsea, coffee) and a spread of log2 luminance of 4.14 / 0.85 / 1.75 against
4.59 / 1.20 / 2.55.
"""

import pytest
import skimage.data
import torch

from hdrconv.data.metrics import colourfulness, log_contrast
from hdrconv.models import registry
from hdrconv.pipeline.presets import DEFAULT_MODEL

PHOTOGRAPHS = ("astronaut", "chelsea", "coffee", "rocket")


def _photograph(name: str) -> torch.Tensor:
    return torch.from_numpy(getattr(skimage.data, name)()).permute(2, 0, 1).float()[None] / 255


@pytest.mark.parametrize("name", PHOTOGRAPHS)
def test_default_is_as_colourful_and_contrasty_as_the_sdr(name):
    sdr = _photograph(name)
    with torch.no_grad():
        # the SDR as an SDR display shows it, placed in the HDR container (BT.2408)
        shown, _ = registry.create("bt2408").process(sdr, None)
        hdr, _ = registry.create(DEFAULT_MODEL).process(sdr, None)
    sdr_chroma, sdr_contrast = colourfulness(shown), log_contrast(shown)
    chroma, contrast = colourfulness(hdr), log_contrast(hdr)
    assert chroma >= sdr_chroma and contrast >= sdr_contrast, (chroma, sdr_chroma, contrast, sdr_contrast)
    assert torch.isfinite(hdr).all() and float(hdr.amax()) <= 1000.5  # within the mastering display
