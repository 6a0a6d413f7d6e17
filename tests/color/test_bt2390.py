"""BT.2390 EETF against hand-computed points (knee, end points, Hermite spline)."""

import pytest
import torch

from hdrconv.color._colour import colour
from hdrconv.color.bt2390 import eetf_BT2390


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
