"""BT.2390 EETF against hand-computed points (knee, end points, Hermite spline)."""

import pytest
import torch

from hdrconv.color._colour import colour
from hdrconv.color.bt2390 import eetf_BT2390, eetf_BT2390_max_RGB, eetf_BT2390_nits, knee_nits
from hdrconv.color.transfer import eotf_inverse_ST2084, eotf_ST2084


def _pq(x):
    return float(colour.models.eotf_inverse_ST2084(x))


def test_eetf_BT2390_hand_computed_knee_and_end_points():
    # 10 000 -> 1000 cd/m2: maxLum = PQ(1000) = 0.75183, KS = 1.5 maxLum - 0.5 = 0.62774
    max_lum = _pq(1000)
    ks = 1.5 * max_lum - 0.5
    assert ks == pytest.approx(0.62774, abs=1e-4)
    E = torch.tensor([0.3, ks - 1e-6, ks + 1e-6, 0.9, 1.0], dtype=torch.float64)
    out = eetf_BT2390(E, 10000, 1000)
    out = out.tolist()
    assert out[0] == pytest.approx(0.3)  # identity below the knee
    assert out[1] == pytest.approx(out[2], abs=1e-5)  # continuous at the knee
    assert out[4] == pytest.approx(max_lum, abs=1e-9)  # source peak -> target peak
    # Hermite spline at T = (0.9 - KS) / (1 - KS), by hand
    T = (0.9 - ks) / (1 - ks)
    p = (2 * T**3 - 3 * T**2 + 1) * ks + (T**3 - 2 * T**2 + T) * (1 - ks) + (-2 * T**3 + 3 * T**2) * max_lum
    assert out[3] == pytest.approx(p, abs=1e-9)
    dense = eetf_BT2390(torch.linspace(0, 1, 1001, dtype=torch.float64), 10000, 1000)
    assert torch.all(torch.diff(dense) >= 0)


def test_eetf_on_nits_is_the_eetf_in_PQ():
    nits = torch.tensor([0.0, 100.0, 500.0, 4000.0, 10000.0], dtype=torch.float64)
    E = eetf_BT2390(eotf_inverse_ST2084(nits), 10000, 1000)
    torch.testing.assert_close(eetf_BT2390_nits(nits, 10000, 1000), eotf_ST2084(E), rtol=0, atol=0)
    assert float(eetf_BT2390_nits(nits, 10000, 1000)[-1]) == pytest.approx(1000, rel=1e-6)


def test_eetf_on_max_RGB_keeps_hue_black_and_the_range_below_the_knee():
    # columns: black, a grey below the knee, a saturated highlight, the source peak in red
    nits = torch.tensor([[0.0, 100.0, 4000.0, 10000.0],
                         [0.0, 100.0, 1000.0, 0.0],
                         [0.0, 100.0, 250.0, 0.0]], dtype=torch.float64).view(3, 1, 4)
    out = eetf_BT2390_max_RGB(nits, 10000, 1000)
    assert out.shape == nits.shape
    assert torch.all(out[:, 0, 0] == 0)
    torch.testing.assert_close(out[:, 0, 1], nits[:, 0, 1], rtol=1e-9, atol=0)  # 100 cd/m2 is below the knee
    # the highlight's max follows the EETF, every channel scaled alike: hue and saturation kept
    m = eetf_BT2390_nits(torch.tensor(4000.0, dtype=torch.float64), 10000, 1000)
    torch.testing.assert_close(out[:, 0, 2], nits[:, 0, 2] * m / 4000, rtol=1e-12, atol=0)
    each = eetf_BT2390_nits(nits, 10000, 1000)[:, 0, 2]  # per channel, the highlight bleaches
    assert float(each[1] / each[0]) > 0.3 and float(each[2] / each[0]) > 0.1
    assert 317 < float(out[0, 0, 2]) < 1000
    assert float(out[0, 0, 3]) == pytest.approx(1000, rel=1e-6)  # source peak -> target peak


@pytest.mark.parametrize("source, target", [(10000, 1000), (1624, 1000), (812, 1000)])
def test_eetf_on_max_RGB_above_the_knee_only_is_the_eetf_of_every_pixel(source, target):
    nits = torch.rand(3, 40, 50, dtype=torch.float64) ** 3 * source * 1.2  # some above the source peak
    nits[:, 0, 0] = 0
    m = nits.amax(dim=-3, keepdim=True)
    every = nits * torch.where(m > 0, eetf_BT2390_nits(m, source, target) / m.clamp(min=1e-12), 0)
    torch.testing.assert_close(eetf_BT2390_max_RGB(nits, source, target), every, rtol=1e-9, atol=1e-9)
    assert bool((m > knee_nits(source, target)).any()) and bool((m < knee_nits(source, target)).any())
