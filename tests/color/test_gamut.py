"""hdrconv.color.gamut against colour-science."""

import numpy as np
import pytest
import torch

from hdrconv.color import gamut
from hdrconv.color._colour import colour

PAIRS = [("ITU-R BT.709", "ITU-R BT.2020"), ("ITU-R BT.2020", "ITU-R BT.709"),
         ("P3-D65", "ITU-R BT.2020"), ("ITU-R BT.2020", "P3-D65")]


def _spaces(src, dst):
    return colour.RGB_COLOURSPACES[src], colour.RGB_COLOURSPACES[dst]


@pytest.mark.parametrize("src, dst", PAIRS)
def test_matrix_RGB_to_RGB(src, dst):
    ref = colour.matrix_RGB_to_RGB(*_spaces(src, dst))
    np.testing.assert_allclose(gamut.matrix_RGB_to_RGB(src, dst), ref, atol=1e-12)


def test_matrix_BT709_to_BT2020_published():
    # ITU-R BT.2087-0, Eq. (4)
    published = [[0.6274, 0.3293, 0.0433], [0.0691, 0.9195, 0.0114], [0.0164, 0.0880, 0.8956]]
    np.testing.assert_allclose(gamut.matrix_RGB_to_RGB("ITU-R BT.709", "ITU-R BT.2020"), published,
                               atol=1e-4)


@pytest.mark.parametrize("src, dst", PAIRS)
def test_RGB_to_RGB(src, dst):
    rng = np.random.default_rng(0)
    rgb = rng.uniform(0, 1000, (2, 3, 5, 7))
    ours = gamut.RGB_to_RGB(torch.from_numpy(rgb.astype(np.float32)), src, dst).numpy()
    ref = colour.RGB_to_RGB(np.moveaxis(rgb, 1, -1), *_spaces(src, dst))
    np.testing.assert_allclose(ours, np.moveaxis(ref, -1, 1), rtol=1e-5, atol=1e-3)


def test_RGB_to_RGB_white_stays_white():
    white = torch.full((3, 2, 2), 203.0)
    out = gamut.RGB_to_RGB(white, "ITU-R BT.709", "ITU-R BT.2020")
    torch.testing.assert_close(out, white, atol=1e-3, rtol=0)


def test_RGB_to_RGB_same_space_is_identity():
    x = torch.rand(3, 4, 4)
    assert gamut.RGB_to_RGB(x, "ITU-R BT.709", "ITU-R BT.709") is x


@pytest.mark.parametrize("shape, m_shape", [((3, 4, 5), (3, 3)), ((2, 3, 4, 5), (3, 3)), ((2, 3, 4, 5), (2, 3, 3))])
def test_apply_matrix_one_or_per_sample(shape, m_shape):
    m, x = torch.rand(m_shape, dtype=torch.float64), torch.rand(shape, dtype=torch.float64)
    expected = torch.einsum("...ij,...jhw->...ihw", m, x)
    torch.testing.assert_close(gamut.apply_matrix(m, x), expected)


def test_apply_matrix_is_differentiable_in_the_matrix():
    m = torch.eye(3, requires_grad=True)
    gamut.apply_matrix(m, torch.ones(3, 2, 2)).sum().backward()
    torch.testing.assert_close(m.grad, torch.full((3, 3), 4.0))
