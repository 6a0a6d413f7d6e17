import numpy as np
import pytest
import torch

from hdrconv.color._colour import colour
from hdrconv.data.grading import (MASTERING_PEAK_NITS, MIDDLE_GREY_NITS, expose,
                                   grade_HDR10, scene_key)


def test_scene_key_is_the_log_average():
    # two halves at luminance 1 and 4: geometric mean 2
    scene = torch.ones(3, 2, 2, dtype=torch.float64)
    scene[:, 1] = 4
    assert scene_key(scene) == pytest.approx(2.0, rel=1e-5)


def test_expose_puts_the_key_at_middle_grey_with_the_exposure_offset():
    scene = torch.full((3, 4, 4), 0.37)
    assert float(expose(scene)[0, 0, 0]) == pytest.approx(MIDDLE_GREY_NITS / 203, rel=1e-5)
    assert float(expose(scene, stops=1.0)[0, 0, 0]) == pytest.approx(2 * MIDDLE_GREY_NITS / 203, rel=1e-5)
    # a crop is exposed with the image's key, not its own
    assert float(expose(scene, key=0.74)[0, 0, 0]) == pytest.approx(MIDDLE_GREY_NITS / 203 / 2, rel=1e-5)


def test_grade_places_reference_white_at_203_and_rolls_highlights_to_the_peak():
    relative = torch.ones(3, 2, 3)
    relative[:, 0, 1] = 3.0  # 609 cd/m2 grey
    relative[:, 0, 2] = torch.tensor([60.0, 30.0, 15.0])  # saturated highlight above the peak
    relative[:, 1, :] = torch.tensor([0.5, 0.25, 0.1])[:, None]
    nits = grade_HDR10(relative)
    assert torch.allclose(nits[:, 0, 0], torch.full((3,), 203.0), rtol=1e-4)
    assert float(nits.amax()) == pytest.approx(MASTERING_PEAK_NITS, rel=1e-4)
    # below the knee the grade is the BT.2020 version of the scene, untouched
    bt2020 = colour.RGB_to_RGB(np.array([0.5, 0.25, 0.1]) * 203, "ITU-R BT.709", "ITU-R BT.2020")
    np.testing.assert_allclose(nits[:, 1, 0].numpy(), bt2020, rtol=1e-4)
    # the roll-off scales all channels of a pixel alike: hue and saturation stay
    high = nits[:, 0, 2].double()
    ref = colour.RGB_to_RGB(np.array([60.0, 30.0, 15.0]), "ITU-R BT.709", "ITU-R BT.2020")
    np.testing.assert_allclose((high / high.max()).numpy(), ref / ref.max(), rtol=1e-4)
    # grey at 609 cd/m2 is compressed but stays above the knee level and below the peak
    assert 290 < float(nits[0, 0, 1]) < 609


def test_grade_uses_the_given_source_peak_for_crops():
    crop = torch.full((3, 2, 2), 2.0)
    alone = grade_HDR10(crop)
    in_image = grade_HDR10(crop, source_peak=10000.0)
    assert torch.allclose(alone, torch.full_like(alone, 406.0), rtol=1e-4)  # its own peak < 1000
    assert float(in_image[0, 0, 0]) < 406.0 - 1
