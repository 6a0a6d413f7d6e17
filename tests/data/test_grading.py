import numpy as np
import pytest
import torch

from hdrconv.color._colour import colour
from hdrconv.data.grading import (MASTERING_PEAK_NITS, MIDDLE_GREY_NITS, Grade, expose,
                                   grade_HDR10, scene_key)

SCENE = Grade(rendering="scene")


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


def test_scene_grade_places_reference_white_at_203_and_rolls_highlights_to_the_peak():
    relative = torch.ones(3, 2, 3)
    relative[:, 0, 1] = 3.0  # 609 cd/m2 grey
    relative[:, 0, 2] = torch.tensor([60.0, 30.0, 15.0])  # saturated highlight above the peak
    relative[:, 1, :] = torch.tensor([0.5, 0.25, 0.1])[:, None]
    nits = grade_HDR10(relative, grade=SCENE)
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
    alone = grade_HDR10(crop, grade=SCENE)
    in_image = grade_HDR10(crop, source_peak=10000.0, grade=SCENE)
    assert torch.allclose(alone, torch.full_like(alone, 406.0), rtol=1e-4)  # its own peak < 1000
    assert float(in_image[0, 0, 0]) < 406.0 - 1


def test_display_grade_is_the_BT2100_OOTF_with_middle_grey_at_its_level():
    grey = MIDDLE_GREY_NITS / 203
    relative = torch.tensor([grey, 1.0, 0.05, 40.0]).repeat(3, 1)[:, None]  # (3, 1, 4) neutral
    nits = grade_HDR10(relative)
    assert float(nits[0, 0, 0]) == pytest.approx(MIDDLE_GREY_NITS, rel=1e-4)
    scale = Grade().ootf_scale()
    # below the roll-off's knee: the OOTF of BT.2100 (colour-science) on the scaled scene light
    ref = colour.models.ootf_BT2100_PQ(np.array([1.0, 0.05]) * scale)
    np.testing.assert_allclose(nits[0, 0, 1:3].numpy(), ref, rtol=1e-4)
    assert 290 < float(nits[0, 0, 1]) < 320  # reference white brighter than 203: the system gamma
    assert float(nits[0, 0, 3]) == pytest.approx(MASTERING_PEAK_NITS, rel=1e-3)
    # 40 cd/m2 grade: grey there, and the OOTF's scale (not the exposure) moved it
    bright = Grade(middle_grey_nits=40.0)
    assert bright.stops == 0.0
    assert float(grade_HDR10(relative, grade=bright)[0, 0, 0]) == pytest.approx(40.0, rel=1e-4)


def test_display_grade_is_more_colourful_than_the_scene_grade():
    # a saturated orange in the mid-tones: the OOTF on R, G, B each widens their ratios
    relative = torch.tensor([0.4, 0.15, 0.05])[:, None, None]
    d, s = grade_HDR10(relative)[:, 0, 0], grade_HDR10(relative, grade=SCENE)[:, 0, 0]
    assert float(d[0] / d[2]) > 1.2 * float(s[0] / s[2])
