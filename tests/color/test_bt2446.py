"""hdrconv.color.bt2446 (Report ITU-R BT.2446-1 Methods A and C): published design values, the
Report's step-by-step Method C computed with colour-science, round trips."""

import numpy as np
import pytest
import torch

from hdrconv.color import bt2446
from hdrconv.color._colour import colour


def grey(values, dtype=torch.float64):
    v = torch.as_tensor(values, dtype=dtype).reshape(1, 1, -1)
    return v.expand(3, 1, v.shape[-1]).clone()


def random_colours(n=4096, seed=0, dtype=torch.float64):
    return torch.rand(3, 1, n, generator=torch.Generator().manual_seed(seed), dtype=dtype)


# --- Method A -----------------------------------------------------------------------------------

def _method_A_literal(RGB_p):
    """§4.2 Table 4 as the Report writes it: Y'CbCr, Y'' = 255 Y', Y'_HDR = Y''**E, chroma x S_C,
    Y'CbCr -> R'G'B', then (as the module docstring explains) gamma 2.4 of R'G'B'_HDR / 1000."""
    R, G, B = RGB_p
    Y = 0.2627 * R + 0.6780 * G + 0.0593 * B
    Cb, Cr = (B - Y) / 1.8814, (R - Y) / 1.4746
    Ypp = 255 * np.clip(Y, 0, 1)
    E = np.where(Ypp <= 70, 1.8712e-5 * Ypp**2 - 2.7334e-3 * Ypp + 1.3141,
                 2.8305e-6 * Ypp**2 - 7.4622e-4 * Ypp + 1.2528)
    Y_HDR = Ypp**E
    S_C = np.where(Y > 0, 1.075 * Y_HDR / np.maximum(Y, 1e-300), 1.0)
    Cb, Cr = Cb * S_C, Cr * S_C
    R_, B_ = Y_HDR + 1.4746 * Cr, Y_HDR + 1.8814 * Cb
    G_ = (Y_HDR - 0.2627 * R_ - 0.0593 * B_) / 0.6780
    return 1000 * np.clip(np.stack([R_, G_, B_]) / 1000, 0, 1) ** 2.4


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_sdr_to_hdr_A_matches_the_reports_steps(dtype):
    RGB_p = random_colours(dtype=dtype)
    RGB_p[:, :, :4] = 0  # black, where S_C is 1
    ours = bt2446.sdr_to_hdr_BT2446_A(RGB_p).double().numpy()
    ref = _method_A_literal(RGB_p.double().numpy())
    np.testing.assert_allclose(ours, ref, rtol=1e-5 if dtype == torch.float32 else 1e-10, atol=1e-6)


# --- Method C -----------------------------------------------------------------------------------

def _method_C_literal(RGB, alpha=bt2446.ALPHA):
    """§6.1.2-6.1.7 as the Report writes them, with colour-science's BT.2020 matrices and Yxy."""
    X = np.full((3, 3), alpha) + np.eye(3) * (1 - 3 * alpha)
    bt2020 = colour.RGB_COLOURSPACES["ITU-R BT.2020"]
    rgb = RGB @ X.T
    xyY = colour.XYZ_to_xyY(rgb @ bt2020.matrix_RGB_to_XYZ.T)
    Y = xyY[..., 2]
    Y_ip = 100 * 0.8**2.4 / bt2446.K1
    xyY[..., 2] = np.where(Y < Y_ip, bt2446.K1 * Y,
                           bt2446.K2 * np.log(np.maximum(Y / Y_ip - bt2446.K3, 1e-12)) + bt2446.K4)
    rgb = colour.xyY_to_XYZ(xyY) @ bt2020.matrix_XYZ_to_RGB.T
    return colour.models.eotf_inverse_BT1886(rgb @ np.linalg.inv(X).T, L_W=100)


@pytest.mark.parametrize("alpha", [0.0, 0.05, 0.33])
def test_hdr_to_sdr_C_matches_the_reports_steps(alpha):
    RGB = random_colours() ** 3 * 1000 + 0.01  # mostly dark, up to 1000 cd/m2, no exact black
    ours = bt2446.hdr_to_sdr_BT2446_C(RGB, alpha=alpha).numpy()
    ref = _method_C_literal(np.moveaxis(RGB.numpy(), 0, -1), alpha)
    # colour-science's BT.2020 luminance row differs from the Report's 0.2627/0.6780/0.0593 by 2e-7
    np.testing.assert_allclose(ours, np.moveaxis(ref, -1, 0), atol=2e-5)


def test_hdr_to_sdr_C_design_points():
    # §6.1.4: knee at SDR 80 % signal; HDR reference white 203 cd/m2 -> SDR 96 % signal;
    # 1000 cd/m2 -> 118.4 cd/m2 SDR super-white
    Y_ip = 100 * 0.8**2.4 / bt2446.K1
    out = bt2446.hdr_to_sdr_BT2446_C(grey([Y_ip, 203.0, 1000.0]))[0, 0]
    np.testing.assert_allclose(out[:2].numpy(), [0.80, 0.96], atol=1e-3)
    assert 100 * out[2].item() ** 2.4 == pytest.approx(118.4, abs=0.05)


def test_sdr_to_hdr_C_design_points():
    out = bt2446.sdr_to_hdr_BT2446_C(grey([0.0, 0.8, 0.96, 1.0]))[0, 0].numpy()
    np.testing.assert_allclose(out, [0.0, 100 * 0.8**2.4 / bt2446.K1, 203.0, 332.6], atol=0.3)


@pytest.mark.parametrize("alpha", [0.0, 0.05, 0.33])
def test_C_round_trips_are_exact(alpha):
    sdr = random_colours(seed=1) * 1.07
    hdr = bt2446.sdr_to_hdr_BT2446_C(sdr, alpha=alpha)
    torch.testing.assert_close(bt2446.hdr_to_sdr_BT2446_C(hdr, alpha=alpha), sdr, atol=1e-10, rtol=0)
    hdr = random_colours(seed=2) ** 2 * 1000
    torch.testing.assert_close(bt2446.sdr_to_hdr_BT2446_C(bt2446.hdr_to_sdr_BT2446_C(hdr, alpha=alpha),
                                                          alpha=alpha), hdr, atol=1e-9, rtol=1e-9)


# --- Method A -----------------------------------------------------------------------------------

def test_hdr_to_sdr_A_end_points():
    # §4.1: Y'p = 1 at L_HDR, the knee maps 1 to 1, so HDR peak white is SDR peak white
    for L_HDR in (1000.0, 4000.0):
        out = bt2446.hdr_to_sdr_BT2446_A(grey([0.0, L_HDR]), L_HDR=L_HDR)
        torch.testing.assert_close(out[:, 0], torch.tensor([[0.0, 1.0]] * 3, dtype=out.dtype))


def test_hdr_to_sdr_A_knee_is_continuous_and_monotonic():
    # on a grid of 20001 HDR signal values the smooth steps are below 1e-4 of SDR signal; the
    # Report's rounded knee coefficients leave a jump of 8e-4 at Y'p = 0.7399 (1.0770 * 0.7399 =
    # 0.79687 vs -1.1510 * 0.7399^2 + 2.7811 * 0.7399 - 0.6302 = 0.79742); a wrong coefficient
    # would leave a larger one
    nits = 1000 * torch.linspace(0, 1, 20001, dtype=torch.float64) ** 2.4
    steps = bt2446.hdr_to_sdr_BT2446_A(grey(nits))[0, 0].diff()
    assert (steps >= 0).all()
    assert steps.max() < 1e-3


def test_sdr_to_hdr_A_table_4_values():
    # Table 4: Y'' = 255 Y', E(255) = 2.8305e-6 * 255^2 - 7.4622e-4 * 255 + 1.2528 = 1.24656,
    # 255 ** E = 999.5 (the [0, 1000] range); the two pieces of E meet at Y'' = 70
    out = bt2446.sdr_to_hdr_BT2446_A(grey([0.0, 1.0, 70 / 255 - 1e-9, 70 / 255 + 1e-9]))[0, 0]
    Y_HDR = 255.0 ** (2.8305e-6 * 255**2 - 7.4622e-4 * 255 + 1.2528)
    assert Y_HDR == pytest.approx(999.8, abs=0.1)
    np.testing.assert_allclose(out[:2].numpy(), [0.0, 1000 * (Y_HDR / 1000) ** 2.4], rtol=1e-9)
    # the rounded coefficients make the two E(70) differ by 2e-5, 70 ** 2e-5 - 1 = 1e-4 in Y'_HDR,
    # 2.4e-4 in display light; a wrong coefficient would break this by far more
    assert out[2].item() == pytest.approx(out[3].item(), rel=5e-4)


def test_A_round_trip_greys():
    # Table 4 is a fitted approximation of the inverse of §4.1, not its algebraic inverse: on the
    # neutral axis the round trip is off by at most 1.2 % of full scale (about 3 eight-bit codes,
    # largest near Y' = 0.86)
    sdr = grey(torch.linspace(0, 1, 1021, dtype=torch.float64))
    back = bt2446.hdr_to_sdr_BT2446_A(bt2446.sdr_to_hdr_BT2446_A(sdr))
    torch.testing.assert_close(back, sdr, atol=0.012, rtol=0)


def test_A_round_trip_colours():
    # Off the neutral axis two more approximations add up: the chroma gain 1.075 / 1.1 = 0.977 of
    # Table 4 versus §4.1, and §4.1's luma reduction max(0.1 Cr, 0) that Table 4 does not undo; both
    # grow with saturation (|Cr| <= 0.5 gives up to 0.05), hence the looser bound for the worst
    # colour and the tight one on average
    sdr = random_colours(seed=3)
    err = (bt2446.hdr_to_sdr_BT2446_A(bt2446.sdr_to_hdr_BT2446_A(sdr)) - sdr).abs()
    assert err.max() < 0.1
    assert err.mean() < 0.02


@pytest.mark.parametrize("fn", [bt2446.hdr_to_sdr_BT2446_A, bt2446.hdr_to_sdr_BT2446_C,
                                bt2446.sdr_to_hdr_BT2446_A, bt2446.sdr_to_hdr_BT2446_C])
def test_finite_float32_any_batch_shape(fn):
    scale = 1000.0 if fn.__name__.startswith("hdr") else 1.0
    x = torch.rand(2, 3, 4, 8, generator=torch.Generator().manual_seed(4)) * scale
    x[..., 0] = 0  # black pixels
    out = fn(x)
    assert out.shape == x.shape and out.dtype == torch.float32
    assert torch.isfinite(out).all()
