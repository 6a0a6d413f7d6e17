"""ITU-R BT.2390 EETF: the reference roll-off of a PQ grade onto a display (or grade) of lower peak.

Used to grade training targets down to the mastering peak (:mod:`hdrconv.data.grading`), to make SDR
from an HDR10 grade as players do (:mod:`hdrconv.data.synthesis`) and to show HDR on an SDR screen
(:mod:`hdrconv.eval.preview`), each through :func:`eetf_BT2390_max_RGB`.
"""

from __future__ import annotations

import torch

from hdrconv.color.transfer import eotf_inverse_ST2084, eotf_ST2084


def _pq(nits: float) -> float:
    return float(eotf_inverse_ST2084(torch.tensor(nits, dtype=torch.float64)))


def _knee(source_peak: float, target_peak: float) -> tuple[float, float, float]:
    """PQ of the source peak, and the target peak and the knee ``KS = 1.5 * maxLum - 0.5`` relative
    to it (BT.2390-8 §5.4.1)."""
    pq_source = _pq(source_peak)
    max_lum = _pq(target_peak) / pq_source
    return pq_source, max_lum, 1.5 * max_lum - 0.5


def eetf_BT2390(E: torch.Tensor, source_peak: float, target_peak: float) -> torch.Tensor:
    """ITU-R BT.2390-8 §5.4.1 EETF on PQ-coded values, black levels 0: maps PQ signal ``E`` of a
    grade whose peak is ``source_peak`` cd/m2 onto a display with peak ``target_peak`` cd/m2.

    Identity below the knee ``KS = 1.5 * maxLum - 0.5``; above it a Hermite spline that reaches the
    target peak with slope 0 at the source peak. Values above the source peak are clipped to it.
    """
    if target_peak >= source_peak:
        return torch.clamp(E, max=_pq(source_peak))
    pq_source, max_lum, ks = _knee(source_peak, target_peak)
    E1 = torch.clamp(E / pq_source, 0, 1)
    T = (E1 - ks) / (1 - ks)
    T2, T3 = T * T, T * T * T
    spline = (2 * T3 - 3 * T2 + 1) * ks + (T3 - 2 * T2 + T) * (1 - ks) + (-2 * T3 + 3 * T2) * max_lum
    E2 = torch.where(E1 < ks, E1, spline)
    return E2 * pq_source


def eetf_BT2390_nits(nits: torch.Tensor, source_peak: float, target_peak: float) -> torch.Tensor:
    """:func:`eetf_BT2390` on linear light in cd/m2: each value PQ-coded (SMPTE ST 2084), mapped and
    decoded again. Applied to R, G and B separately, it bleaches saturated highlights towards white
    (as a per-channel PQ look-up table does); :func:`eetf_BT2390_max_RGB` keeps their hue."""
    return eotf_ST2084(eetf_BT2390(eotf_inverse_ST2084(nits), source_peak, target_peak))


def knee_nits(source_peak: float, target_peak: float) -> float:
    """The light in cd/m2 up to which :func:`eetf_BT2390` is the identity: the knee ``KS`` decoded, or
    the source peak itself where the target holds it (nothing to roll off, only a clip above it)."""
    if target_peak >= source_peak:
        return source_peak
    pq_source, _, ks = _knee(source_peak, target_peak)
    return float(eotf_ST2084(torch.tensor(ks * pq_source, dtype=torch.float64)))


def eetf_BT2390_max_RGB(nits: torch.Tensor, source_peak: float, target_peak: float) -> torch.Tensor:
    """Linear RGB in cd/m2 ``(..., 3, H, W)``, highlights rolled off from ``source_peak`` to
    ``target_peak`` cd/m2: :func:`eetf_BT2390_nits` applied to each pixel's max(R, G, B), and the
    pixel scaled by the ratio of the rolled-off to the original max.

    Scaling the three channels alike keeps hue and saturation: applied to each channel, the EETF would
    bleach saturated highlights towards white. Below the knee (:func:`knee_nits`) the ratio is exactly
    1, so the EETF runs on the pixels above it only: the PQ round trip of every pixel's max cost 73 ms
    of the 124 ms that ``hdrconv alt-exp`` spent placing a 1080p frame for HDR10, where a few percent
    of the pixels, often none, reach the knee. Black pixels stay black.
    """
    m = nits.amax(dim=-3, keepdim=True)
    above = m > knee_nits(source_peak, target_peak)
    ratio = torch.ones_like(m)
    peaks = m[above]
    ratio[above] = eetf_BT2390_nits(peaks, source_peak, target_peak) / peaks
    return nits * ratio
