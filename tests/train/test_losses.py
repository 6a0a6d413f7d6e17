import math

import pytest
import torch

from hdrconv.train.losses import LOSSES, charbonnier_pq, l1_pq


def test_l1_and_charbonnier_hand_computed():
    out = torch.tensor([0.5, 0.2, 0.9])
    ref = torch.tensor([0.4, 0.2, 0.6])
    assert float(l1_pq(out, ref)) == pytest.approx((0.1 + 0 + 0.3) / 3)
    eps = 1e-3
    expected = (math.sqrt(0.01 + eps**2) + eps + math.sqrt(0.09 + eps**2)) / 3
    assert float(charbonnier_pq(out, ref)) == pytest.approx(expected, rel=1e-6)
    assert set(LOSSES) == {"l1", "charbonnier"}
