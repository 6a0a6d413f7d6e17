"""The per-file work of ``hdrconv alt-exp``: the stage's table against the camera response computed
per pixel."""

from __future__ import annotations

import pytest
import torch

from hdrconv.color import crf as camera
from hdrconv.color.conventions import ALT_EXP_GAMMA
from hdrconv.pipeline import exposures as cycles
from hdrconv.pipeline.altexp_convert import _stage
from hdrconv.pipeline.windows import Frame


@pytest.mark.parametrize("spec", ["bt709", "srgb", "gamma:2.2", "gamma:1"])
def test_the_stage_reads_the_response_and_gamma_from_its_table(spec):
    response = camera.parse(spec)
    signal = torch.rand(2, 3, 64, 96)
    signal[0, 0, 0, :5] = torch.tensor([0.0, 1.0, 0.0812, 0.0813, 0.5])  # ends, the BT.709 break
    cycle = cycles.given((-2.0, 2.0), None, 2)
    staged = list(_stage(response, cycle)(iter(Frame(s, i / 25) for i, s in enumerate(signal))))
    assert [f.exposure for f in staged] == [-2.0, 2.0]
    exact = response.to_linear(signal.double()).clamp(min=0) ** (1 / ALT_EXP_GAMMA)
    coded = torch.stack([f.rgb for f in staged]).double()
    assert coded.shape == signal.shape
    lit = signal >= 1 / 1023
    assert float((coded - exact)[lit].abs().max()) < 3e-4
    assert float((coded - exact)[~lit].abs().max()) < 6e-3
    assert float(coded.min()) >= 0 and float(coded.max()) == pytest.approx(1.0)
