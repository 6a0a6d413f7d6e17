"""HDR <-> SDR conversion after Report ITU-R BT.2446-1 (03/2021), Methods A and C, on torch tensors.

Every function takes and returns tensors with the three channels on dimension -3 (``...CHW``), any
float dtype and device. Both sides are BT.2020 primaries (the Report converts luminance, not gamut; for
BT.709 SDR convert linear light with :func:`hdrconv.color.gamut.RGB_to_RGB` and clip).

Domains, the same for both methods:

- HDR: *linear* BT.2020 RGB display light in cd/m2 (what :func:`~hdrconv.color.transfer.eotf_ST2084`
  returns, and what every hdrconv model outputs);
- SDR: *non-linear* BT.2020 R'G'B', BT.1886 coded (gamma 2.4, black 0) for an SDR display whose
  peak ``L_SDR`` is 100 cd/m2: 1.0 is SDR peak white. Not clipped: Method A's colour correction can
  push saturated colours a little outside [0, 1]; Method C maps HDR above ~333 cd/m2 into SDR
  "super-white" (1.07 for a neutral 1000 cd/m2) and, keeping chromaticity, bright saturated colours
  well above 1 (a 1000 cd/m2 BT.2020 red is ~1.7). Clip (or gamut-map) when quantising.

``hdr_to_sdr_*`` are the Report's HDR to SDR conversions (tone mapping); ``sdr_to_hdr_*`` its SDR to HDR
conversions (inverse tone mapping).

Reference: Report ITU-R BT.2446-1, "Methods for conversion of high dynamic range content to standard
dynamic range content and vice-versa", 2021: §4 (Method A), §6 (Method C).
"""

from __future__ import annotations

import math

import torch

from hdrconv.color.conventions import BT1886_GAMMA, BT2020_WEIGHTS, HDR_COLOURSPACE, SDR_COLOURSPACE
from hdrconv.color.gamut import RGB_to_RGB
from hdrconv.color.kernels import power

_K_R, _K_G, _K_B = BT2020_WEIGHTS  # the Report's K_R, K_G, K_B
# Y'CbCr colour-difference scales 2 (1 - K_B) and 2 (1 - K_R), as the Report writes them
_CB, _CR = 1.8814, 1.4746


def _luma(R: torch.Tensor, G: torch.Tensor, B: torch.Tensor) -> torch.Tensor:
    return _K_R * R + _K_G * G + _K_B * B


def _YCbCr_to_RGB(Y: torch.Tensor, Cb: torch.Tensor, Cr: torch.Tensor) -> torch.Tensor:
    R = Y + _CR * Cr
    B = Y + _CB * Cb
    G = (Y - _K_R * R - _K_B * B) / _K_G
    return torch.stack((R, G, B), dim=-3)


def sdr_BT709_to_BT2020(RGB_p: torch.Tensor) -> torch.Tensor:
    """SDR BT.709 R'G'B' in [0, 1] -> the same SDR as BT.2020 R'G'B' (BT.1886 coded, 1.0 = SDR peak
    white), the SDR domain of both methods: BT.1886 EOTF, linear BT.709 -> BT.2020, inverse EOTF.

    Powers with :func:`~hdrconv.color.kernels.power` (2 x 78 ms less per 1080p frame on one CPU
    thread than torch's ``pow``)."""
    linear = RGB_to_RGB(power(RGB_p, BT1886_GAMMA), SDR_COLOURSPACE, HDR_COLOURSPACE)
    return power(linear.clamp_(min=0), 1 / BT1886_GAMMA)


def _rho(L: float) -> float:
    """BT.2446-1 §4.1, Eq. for rho_HDR / rho_SDR: 1 + 32 (L / 10000) ** (1 / 2.4)."""
    return 1 + 32 * (L / 10000) ** (1 / BT1886_GAMMA)


def hdr_to_sdr_BT2446_A(RGB: torch.Tensor, L_HDR: float = 1000.0, L_SDR: float = 100.0) -> torch.Tensor:
    """BT.2446-1 Method A, HDR to SDR conversion (§4.1): linear BT.2020 RGB in cd/m2 -> SDR BT.2020
    R'G'B' (BT.1886 coded, 1.0 = SDR peak white; see the module docstring).

    Steps (§4.1): the HDR display light, normalised to ``L_HDR`` (clipped to [0, 1]), is coded with
    gamma 1/2.4 and its luma Y' computed; Y' is taken to a perceptually uniform domain with
    rho_HDR = 1 + 32 (L_HDR / 10000) ** (1 / 2.4), compressed by the three-segment knee
    (1.0770 Y'p up to 0.7399; -1.1510 Y'p^2 + 2.7811 Y'p - 0.6302 up to 0.9909; 0.5 Y'p + 0.5 above),
    and brought back with rho_SDR; the colour differences are scaled by f = Y'_SDR / (1.1 Y') and the
    luma lowered by max(0.1 Cr, 0) to avoid red over-saturation; Y'CbCr (BT.2020) gives R'G'B'.

    Parameters
    ----------
    RGB : linear BT.2020 display light in cd/m2, ``(..., 3, H, W)``.
    L_HDR : peak luminance of the HDR content (the Report's L_HDR), cd/m2.
    L_SDR : peak luminance of the SDR display (the Report's L_SDR), cd/m2.
    """
    E = torch.clamp(RGB / L_HDR, 0, 1) ** (1 / BT1886_GAMMA)
    R, G, B = E.unbind(-3)
    Y = _luma(R, G, B)

    rho_HDR, rho_SDR = _rho(L_HDR), _rho(L_SDR)
    Y_p = torch.log1p((rho_HDR - 1) * Y) / math.log(rho_HDR)
    Y_c = torch.where(Y_p <= 0.7399, 1.0770 * Y_p,
                      torch.where(Y_p < 0.9909, (-1.1510 * Y_p + 2.7811) * Y_p - 0.6302, 0.5 * Y_p + 0.5))
    Y_SDR = torch.expm1(Y_c * math.log(rho_SDR)) / (rho_SDR - 1)

    # Y' = 0 only for black (non-negative input), whose colour differences are 0 anyway
    f = torch.where(Y > 0, Y_SDR / (1.1 * Y.clamp(min=torch.finfo(Y.dtype).tiny)), 0.0)
    Cb = f * (B - Y) / _CB
    Cr = f * (R - Y) / _CR
    Y_tmo = Y_SDR - torch.clamp(0.1 * Cr, min=0)
    return _YCbCr_to_RGB(Y_tmo, Cb, Cr)


# BT.2446-1 §4.2, Table 4: coefficients of the exponent E(Y'') of the SDR to HDR luma mapping
_A_ITM = ((1.8712e-5, -2.7334e-3, 1.3141), (2.8305e-6, -7.4622e-4, 1.2528))
_L_HDR_A_ITM = 1000.0
"""Peak luminance (cd/m2) that Table 4's luma mapping produces: Y'_HDR spans [0, 1000]."""


def sdr_to_hdr_BT2446_A(RGB_p: torch.Tensor) -> torch.Tensor:
    """BT.2446-1 Method A, SDR to HDR conversion (§4.2, Table 4): SDR BT.2020 R'G'B' (BT.1886 coded,
    1.0 = SDR peak white) -> linear BT.2020 RGB in cd/m2, peak 1000 cd/m2.

    Steps (Table 4): Y'CbCr (BT.2020) of the SDR signal; Y'' = 255 Y'; Y'_HDR = Y'' ** E with
    E = a Y''^2 + b Y'' + c (a1, b1, c1 for Y'' <= 70, a2, b2, c2 above), so that Y'_HDR spans
    [0, 1000]; the colour differences are scaled by S_C = 1.075 Y'_HDR / Y' (1 where Y' = 0); Y'CbCr
    gives R'G'B'_HDR in [0, 1000].

    The Report's Table 4 is a fitted approximate inverse of §4.1, not its exact algebraic inverse:
    R'G'B'_HDR / 1000 is the §4.1 gamma-1/2.4 signal of HDR display light normalised to
    L_HDR = 1000 cd/m2, so the last step here undoes §4.1's first: clip to [0, 1], raise to 2.4, scale
    by 1000 cd/m2. ``hdr_to_sdr_BT2446_A(sdr_to_hdr_BT2446_A(x))`` is close to ``x`` (luma within
    about 1 % of full scale, see the tests) but not equal.
    """
    Y = _luma(*RGB_p.unbind(-3))
    Y_pp = 255 * torch.clamp(Y, 0, 1)
    (a1, b1, c1), (a2, b2, c2) = _A_ITM
    E = torch.where(Y_pp <= 70, (a1 * Y_pp + b1) * Y_pp + c1, (a2 * Y_pp + b2) * Y_pp + c2)
    # Y''**E as exp(E log Y''): torch's pow of two tensors is 2x slower (14 vs 8 ms on a 1080p plane);
    # Y'' = 0 gives exp(-inf) = 0
    Y_HDR = torch.exp(torch.log(Y_pp).mul_(E))

    S_C = torch.where(Y > 0, 1.075 * Y_HDR / Y.clamp(min=torch.finfo(Y.dtype).tiny), 1.0)
    # Y'CbCr -> R'G'B' with the colour differences scaled by S_C is Y'_HDR + S_C (R'G'B' - Y') per
    # channel (the luma row sums to 1) = S_C R'G'B' + (Y'_HDR - S_C Y'): one fused pass over the frame
    # with two one-channel maps, already divided by L_HDR, instead of the Cb/Cr round trip (tested
    # against it); with :func:`~hdrconv.color.kernels.power`, the bt2446a model took 107 ms per 1080p
    # frame on one CPU thread instead of 370 (bt2408: 69 ms in the same run)
    scale = S_C / _L_HDR_A_ITM
    offset = (Y_HDR - S_C * Y) / _L_HDR_A_ITM
    RGB_p_HDR = torch.addcmul(offset.unsqueeze(-3), RGB_p, scale.unsqueeze(-3))
    return power(RGB_p_HDR.clamp_(0, 1), BT1886_GAMMA).mul_(_L_HDR_A_ITM)


# BT.2446-1 §6.1.4: parameters of the tone-mapping curve (the Report's example values, designed so
# that HDR reference white, 203 cd/m2, lands at SDR 96 % signal, and 1000 cd/m2 at ~118 cd/m2)
K1, K2, K3, K4 = 0.83802, 15.09968, 0.74204, 78.99439
ALPHA = 0.05
"""Crosstalk parameter alpha of §6.1.2. The Report allows 0 <= alpha <= 0.33 and fixes no value;
0.05 is a mild desaturation of highlights, as used by public implementations."""

# §6.1.4: the knee is at SDR 80 % signal, 100 * 0.8 ** 2.4 = 58.535 cd/m2 (the Report rounds it to 58.5;
# the exact value is the one K2..K4 were derived with, which makes the curve continuous).
_Y_SDR_IP = 100 * 0.8**BT1886_GAMMA


def _crosstalk_luminance(RGB: torch.Tensor, alpha: float) -> torch.Tensor:
    """Y of the crosstalk-matrixed RGB (§6.1.2, §6.1.3).

    The crosstalk matrix has 1 - 2 alpha on the diagonal and alpha elsewhere, so its luminance row is
    (1 - 3 alpha) K + alpha (1, 1, 1), K being the BT.2020 luminance row (which sums to 1).
    """
    R, G, B = RGB.unbind(-3)
    return (1 - 3 * alpha) * _luma(R, G, B) + alpha * (R + G + B)


def _scale(RGB: torch.Tensor, Y_in: torch.Tensor, Y_out: torch.Tensor, ratio_at_0: float) -> torch.Tensor:
    ratio = torch.where(Y_in > 0, Y_out / Y_in.clamp(min=torch.finfo(Y_in.dtype).tiny), ratio_at_0)
    return RGB * ratio.unsqueeze(-3)


def hdr_to_sdr_BT2446_C(RGB: torch.Tensor, alpha: float = ALPHA, k1: float = K1, k2: float = K2,
                        k3: float = K3, k4: float = K4, L_SDR: float = 100.0) -> torch.Tensor:
    """BT.2446-1 Method C, HDR to SDR conversion (§6.1): linear BT.2020 RGB in cd/m2 -> SDR BT.2020
    R'G'B' (BT.1886 coded, 1.0 = ``L_SDR``; see the module docstring).

    §6.1.2-6.1.6: crosstalk matrix, conversion to Yxy, tone mapping of Y only
    (Y_SDR = k1 Y_HDR below Y_HDR,ip = 58.5 / k1, k2 ln(Y_HDR / Y_HDR,ip - k3) + k4 above),
    back to XYZ and RGB with the same x, y, inverse crosstalk matrix. Keeping x, y and changing Y
    scales XYZ, and so the crosstalk-matrixed RGB and the RGB, by Y_SDR / Y_HDR: this function applies
    that ratio directly, which is the same result without the division by X + Y + Z (undefined at
    black). §6.1.7: BT.1886 inverse EOTF with L_W = ``L_SDR``. The optional chroma correction of
    §6.1.8 is not applied.

    Parameters
    ----------
    RGB : linear BT.2020 display light in cd/m2, ``(..., 3, H, W)``.
    alpha : crosstalk parameter (§6.1.2), 0 <= alpha <= 0.33.
    k1, k2, k3, k4 : tone-mapping curve parameters (§6.1.4).
    L_SDR : SDR peak white in cd/m2 for the inverse EOTF (§6.1.7).
    """
    RGB = RGB.clamp(min=0)
    Y = _crosstalk_luminance(RGB, alpha)
    Y_ip = _Y_SDR_IP / k1
    Y_SDR = torch.where(Y < Y_ip, k1 * Y, k2 * torch.log((Y / Y_ip - k3).clamp(min=1e-12)) + k4)
    return (_scale(RGB, Y, Y_SDR, k1) / L_SDR) ** (1 / BT1886_GAMMA)


def sdr_to_hdr_BT2446_C(RGB_p: torch.Tensor, alpha: float = ALPHA, k1: float = K1, k2: float = K2,
                        k3: float = K3, k4: float = K4, L_SDR: float = 100.0) -> torch.Tensor:
    """BT.2446-1 Method C, SDR to HDR conversion (§6.2): SDR BT.2020 R'G'B' (BT.1886 coded,
    1.0 = ``L_SDR``) -> linear BT.2020 RGB in cd/m2.

    The exact inverse of :func:`hdr_to_sdr_BT2446_C`, step by step in reverse: BT.1886 EOTF, crosstalk
    matrix, Yxy, inverse tone mapping (Y_HDR = Y_SDR / k1 below k1 Y_HDR,ip,
    Y_HDR,ip (exp((Y_SDR - k4) / k2) + k3) above), back to RGB, inverse crosstalk matrix; applied as
    the luminance ratio as in :func:`hdr_to_sdr_BT2446_C`. SDR peak white (100 cd/m2) becomes about
    333 cd/m2; the SDR super-white signal 1.07 (118 cd/m2) becomes 1000 cd/m2.
    """
    RGB = power(RGB_p.clamp(min=0), BT1886_GAMMA).mul_(L_SDR)
    Y = _crosstalk_luminance(RGB, alpha)
    Y_ip = _Y_SDR_IP / k1
    Y_HDR = torch.where(Y < k1 * Y_ip, Y / k1, Y_ip * (torch.exp((Y - k4) / k2) + k3))
    return _scale(RGB, Y, Y_HDR, 1 / k1)
