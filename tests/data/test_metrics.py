import math

import numpy as np
import pytest
import torch

from hdrconv.color._colour import colour
from hdrconv.data.metrics import (delta_E_ITP, flicker, psnr_mu, psnr_pq, ssim, ssim_pq, temporal_instability,
                                  warp_backward, warping_error)


def _pq(nits):
    return float(colour.models.eotf_inverse_ST2084(nits))


def _flat(nits, h=16, w=16, t=None):
    x = torch.full((3, h, w), float(nits), dtype=torch.float64)
    return x if t is None else x.expand(t, 3, h, w).clone()


def test_psnr_pq_hand_computed():
    d = _pq(200) - _pq(100)
    assert psnr_pq(_flat(200), _flat(100)) == pytest.approx(-10 * math.log10(d * d), rel=1e-9)
    assert psnr_pq(_flat(100), _flat(100)) == math.inf


def test_ssim_hand_computed_for_constant_images():
    # zero variance: SSIM reduces to the luminance term (2 a b + C1) / (a^2 + b^2 + C1)
    a, b, c1 = 0.3, 0.5, (0.01) ** 2
    assert ssim(_flat(a), _flat(b)) == pytest.approx((2 * a * b + c1) / (a * a + b * b + c1), rel=1e-9)
    g = torch.Generator().manual_seed(0)
    x = torch.rand(3, 24, 24, generator=g, dtype=torch.float64) * 1000
    assert ssim_pq(x, x) == pytest.approx(1.0)
    assert ssim_pq(x * 1.5, x) < 0.999


def test_delta_E_ITP_hand_computed_for_greys():
    # neutral BT.2020 RGB: LMS = RGB (rows of the matrix sum to 1), Ct = Cp = 0 and I = PQ(Y)
    assert delta_E_ITP(_flat(200, 4, 4), _flat(100, 4, 4)) == pytest.approx(720 * (_pq(200) - _pq(100)), rel=1e-6)
    assert delta_E_ITP(_flat(50, 4, 4), _flat(50, 4, 4)) == 0


def test_psnr_mu_hand_computed():
    tm = [math.log1p(5000 * v) / math.log1p(5000) for v in (0.5, 0.25)]
    expected = -10 * math.log10((tm[0] - tm[1]) ** 2)
    assert psnr_mu(_flat(500), _flat(250)) == pytest.approx(expected, rel=1e-9)
    # normalised by the peak and clipped: 2000 and 1000 cd/m2 are both 1.0
    assert psnr_mu(_flat(2000), _flat(1000)) == math.inf


def test_flicker_hand_computed():
    levels = [100.0, 110.0, 100.0, 110.0]
    out = torch.stack([_flat(v) for v in levels])
    ref = _flat(100, t=4)
    # mean |dP99| = 10, mean P99 = 105; the steady reference has 0
    assert temporal_instability(out) == pytest.approx(10 / 105)
    assert flicker(out, ref) == pytest.approx(10 / 105)
    assert flicker(ref, out) == pytest.approx(-10 / 105)
    assert flicker(out, out) == 0


def test_warp_backward_integer_shift_and_warping_error():
    g = torch.Generator().manual_seed(0)
    scene = torch.rand(3, 20, 30, generator=g, dtype=torch.float64) * 500
    # the camera moves 2 px right per frame: frame t is scene[..., 2t : 2t + 20]
    frames = torch.stack([scene[:, :, 2 * t: 2 * t + 20] for t in range(3)])
    ys, xs = torch.meshgrid(torch.arange(20.0), torch.arange(20.0), indexing="ij")
    coords = torch.stack([xs + 2, ys], -1).expand(2, 20, 20, 2).double()
    valid = (xs + 2 <= 19).expand(2, 20, 20)
    np.testing.assert_allclose(warp_backward(frames[:-1], coords)[0, :, :, :18], frames[1, :, :, :18])
    assert warping_error(frames, coords, valid) == pytest.approx(0, abs=1e-12)
    # a frame-1 brightness jump of 100 -> 200 cd/m2 on a flat scene is seen as |PQ(200) - PQ(100)|
    flat = torch.stack([_flat(100, 20, 20), _flat(200, 20, 20), _flat(200, 20, 20)])
    assert warping_error(flat, coords, valid) == pytest.approx((_pq(200) - _pq(100)) / 2, rel=1e-9)


def test_warping_error_relative_to_the_reference():
    g = torch.Generator().manual_seed(0)
    frames = torch.rand(3, 3, 12, 12, generator=g, dtype=torch.float64) * 300
    ys, xs = torch.meshgrid(torch.arange(12.0), torch.arange(12.0), indexing="ij")
    coords = torch.stack([xs, ys], -1).expand(2, 12, 12, 2).double()
    valid = torch.ones(2, 12, 12, dtype=torch.bool)
    raw = warping_error(frames, coords, valid)
    assert raw > 0.01
    assert warping_error(frames, coords, valid, reference=frames) == 0
    assert warping_error(frames, coords, valid, reference=frames[:1].expand(3, 3, 12, 12)) == pytest.approx(raw)
