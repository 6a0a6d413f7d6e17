"""Transfer functions on torch tensors: the hot path of the pipeline.

colour-science's ``colour.models`` functions of the same names are the reference; the tests check these
against them. Tensors may be on any device and of any float dtype.
"""

from __future__ import annotations

import torch

from hdrconv.color.conventions import BT1886_GAMMA, PQ_PEAK_NITS
from hdrconv.color.kernels import power

# SMPTE ST 2084:2014, Table 1
_M1 = 2610 / 16384
_M2 = 2523 / 4096 * 128
_C1 = 3424 / 4096
_C2 = 2413 / 4096 * 32
_C3 = 2392 / 4096 * 32


def oetf_BT709(L: torch.Tensor) -> torch.Tensor:
    """ITU-R BT.709-6 OETF (Part 1, item 1.2): scene light L -> signal V, V = 1 at L = 1, negative
    light clipped to 0. Not clipped above 1: a camera's knee
    (:func:`hdrconv.data.synthesis.camera_knee`) decides what becomes of brighter light."""
    L = torch.as_tensor(L).clamp(min=0)
    return torch.where(L < 0.018, 4.5 * L, 1.099 * L.clamp(min=0.018) ** 0.45 - 0.099)


def oetf_inverse_BT709(V: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`oetf_BT709`: signal V in [0, 1] -> relative scene light L (a camera's
    response undone)."""
    V = torch.as_tensor(V).clamp(0, 1)
    # the break where the power segment starts (0.0812), as colour-science has it, not 4.5 * 0.018:
    # the two segments do not quite meet
    return torch.where(V < 1.099 * 0.018 ** 0.45 - 0.099, V / 4.5, power((V + 0.099) / 1.099, 1 / 0.45))


def eotf_sRGB(V: torch.Tensor) -> torch.Tensor:
    """IEC 61966-2-1 sRGB decoding: signal V in [0, 1] -> relative linear light."""
    V = torch.as_tensor(V).clamp(0, 1)
    return torch.where(V <= 0.04045, V / 12.92, power((V + 0.055) / 1.055, 2.4))


def eotf_BT1886(V: torch.Tensor, L_B: float = 0.0, L_W: float = 1.0) -> torch.Tensor:
    """ITU-R BT.1886 Annex 1 reference EOTF: non-linear signal V in [0, 1] -> display luminance.

    With the defaults (L_B = 0, L_W = 1) this is V ** 2.4, relative to SDR peak white.
    """
    gamma = BT1886_GAMMA
    n = L_W ** (1 / gamma) - L_B ** (1 / gamma)
    a = n**gamma
    b = L_B ** (1 / gamma) / n
    # the per-frame hot path (L_B = 0) skips the no-op offset: one pass over the frame less
    # in place on the fresh clamp result: a 1080p frame is 24 MB, each new tensor costs page faults;
    # the power with OpenCV's kernel (kernels.power): 10-12 ms instead of torch's 42 ms a 1080p frame
    L = torch.clamp(V + b if b else V, min=0)
    L = power(L, gamma, out=L)
    return L.mul_(a) if a != 1 else L


def eotf_inverse_BT1886(L: torch.Tensor, L_B: float = 0.0, L_W: float = 1.0) -> torch.Tensor:
    """Inverse of :func:`eotf_BT1886` (ITU-R BT.1886 Annex 1)."""
    gamma = BT1886_GAMMA
    n = L_W ** (1 / gamma) - L_B ** (1 / gamma)
    a = n**gamma
    b = L_B ** (1 / gamma) / n
    return power(torch.clamp(L / a, min=0), 1 / gamma) - b


BT2100_PQ_OOTF_SCALE = 59.5208
"""Scene-light scale of the BT.2100 PQ reference OOTF (ITU-R BT.2100-2, Table 4): E = 1 becomes about
10 000 cd/m2."""


def ootf_BT2100_PQ(E: torch.Tensor) -> torch.Tensor:
    """ITU-R BT.2100-2 Table 4 PQ reference OOTF: scene light E in [0, 1] -> display light in cd/m2,
    ``F_D = G1886[G709[E]]`` with ``G709 = oetf_BT709(59.5208 E)`` and ``G1886 = 100 E'^2.4``, per
    component. The rendering SDR production applies (a camera's BT.709 OETF viewed on a BT.1886
    display), continued above SDR peak white: a system gamma of about 1.2 in the mid-tones, with the
    saturation that comes with applying it to R, G and B each."""
    E = torch.as_tensor(E).clamp(0, 1)
    return eotf_BT1886(oetf_BT709(BT2100_PQ_OOTF_SCALE * E), L_W=100.0)


def eotf_ST2084(N: torch.Tensor, L_p: float = PQ_PEAK_NITS) -> torch.Tensor:
    """SMPTE ST 2084 (PQ) EOTF: non-linear signal N in [0, 1] -> luminance in cd/m2."""
    Np = power(torch.clamp(N, 0, 1), 1 / _M2)
    return L_p * power(torch.clamp(Np - _C1, min=0) / (_C2 - _C3 * Np), 1 / _M1)


def eotf_inverse_ST2084(C: torch.Tensor, L_p: float = PQ_PEAK_NITS) -> torch.Tensor:
    """SMPTE ST 2084 (PQ) inverse EOTF: luminance in cd/m2 -> non-linear signal in [0, 1]."""
    Y = power(torch.clamp(C / L_p, 0, 1), _M1)
    return power((_C1 + _C2 * Y) / (1 + _C3 * Y), _M2)
