"""The colour facts of hdrconv.color.conventions against colour-science."""

import numpy as np
import pytest

from hdrconv.color._colour import colour
from hdrconv.color.conventions import BT1886_GAMMA, BT709_WEIGHTS, BT2020_WEIGHTS


@pytest.mark.parametrize("name, weights", [("ITU-R BT.709", BT709_WEIGHTS), ("ITU-R BT.2020", BT2020_WEIGHTS)])
def test_weights_are_the_luma_coefficients_and_the_luminance_row(name, weights):
    K_R, K_B = colour.WEIGHTS_YCBCR[name]
    np.testing.assert_allclose(weights, [K_R, 1 - K_R - K_B, K_B], atol=1e-12)
    # relative luminance of linear RGB: the Y row of the RGB -> XYZ matrix of the primaries
    Y_row = colour.RGB_COLOURSPACES[name].matrix_RGB_to_XYZ[1]
    np.testing.assert_allclose(weights, Y_row, atol=5e-5)
    assert sum(weights) == pytest.approx(1.0, abs=1e-12)


def test_BT1886_exponent_is_colour_sciences():
    V = np.linspace(0, 1, 11)
    np.testing.assert_allclose(colour.models.eotf_BT1886(V, L_B=0, L_W=1), V**BT1886_GAMMA, atol=1e-12)
