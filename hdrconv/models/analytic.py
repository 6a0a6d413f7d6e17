"""Analytic (formula, no weights) SDR -> HDR models.

All three are per-frame: ``window = 1``, no state. Input and output domains are those of
:mod:`hdrconv.models.base`: BT.709 R'G'B' in [0, 1] in, linear BT.2020 RGB in cd/m2 out. The SDR input
is decoded with the BT.1886 reference EOTF (gamma 2.4, zero black level), as an SDR reference display
shows it.
"""

from __future__ import annotations

from typing import Any

import torch

from hdrconv.color.bt2446 import sdr_BT709_to_BT2020, sdr_to_hdr_BT2446_A, sdr_to_hdr_BT2446_C
from hdrconv.color.conventions import HDR_COLOURSPACE, REFERENCE_WHITE_NITS, SDR_COLOURSPACE
from hdrconv.color.gamut import RGB_to_RGB
from hdrconv.color.transfer import eotf_BT1886
from hdrconv.models.base import Model
from hdrconv.models.registry import register


_WHITE = torch.ones(1, 3, 1, 1)
"""SDR peak white: what the analytic models map highest (tests/models/test_analytic.py checks the RGB cube)."""


def _linear_BT2020(frames: torch.Tensor, L_W: float) -> torch.Tensor:
    """SDR BT.709 R'G'B' -> linear BT.2020 display light, SDR peak white at ``L_W``."""
    return RGB_to_RGB(eotf_BT1886(frames), SDR_COLOURSPACE, HDR_COLOURSPACE, scale=L_W)


def sdr_in_hdr_BT2408(frames: torch.Tensor) -> torch.Tensor:
    """SDR BT.709 R'G'B' as an SDR display shows it, placed in the HDR container (ITU-R BT.2408-7
    §2.2): linear BT.2020 cd/m2, SDR 100 % at the HDR reference white of 203 cd/m2."""
    return _linear_BT2020(frames, REFERENCE_WHITE_NITS)


@register
class BT2408(Model):
    """SDR placed unchanged in the HDR container (ITU-R BT.2408-7, display-referred mapping of SDR
    into HDR): BT.1886 EOTF, BT.709 -> BT.2020 primaries, SDR 100 % at the HDR reference white of
    203 cd/m2 (§2.2). No expansion: the picture looks as on an SDR display with a 203 cd/m2 peak, and
    the conversion back to SDR is exact (round-trip-safe)."""

    name = "bt2408"
    summary = "SDR in the HDR container, 100 % SDR = 203 cd/m2 (ITU-R BT.2408), no expansion"
    peak_nits = REFERENCE_WHITE_NITS

    def process(self, frames: torch.Tensor, state: Any) -> tuple[torch.Tensor, Any]:
        return sdr_in_hdr_BT2408(frames), state


@register
class BT2446A(Model):
    """Inverse tone mapping of Report ITU-R BT.2446-1 Method A (§4.2, Table 4): the SDR signal,
    re-coded in BT.2020 (gamma 2.4), has its luma expanded by the Report's fitted exponent and its
    colour differences scaled with it; SDR peak white becomes 1000 cd/m2, SDR 50 % signal about
    76 cd/m2. See :func:`hdrconv.color.bt2446.sdr_to_hdr_BT2446_A`."""

    name = "bt2446a"
    summary = "inverse tone mapping of ITU-R BT.2446-1 Method A (luma expansion, peak 1000 cd/m2)"
    peak_nits = float(sdr_to_hdr_BT2446_A(sdr_BT709_to_BT2020(_WHITE)).max())

    def process(self, frames: torch.Tensor, state: Any) -> tuple[torch.Tensor, Any]:
        return sdr_to_hdr_BT2446_A(sdr_BT709_to_BT2020(frames)), state


@register
class BT2446C(Model):
    """Inverse tone mapping of Report ITU-R BT.2446-1 Method C (§6.2): the SDR display light
    (100 cd/m2 peak, BT.2020) has its crosstalk-matrixed luminance expanded by the inverse of the §6.1.4
    curve, chromaticity kept; linear below SDR 80 % signal (x 1 / k1), logarithmic above; SDR peak
    white becomes about 333 cd/m2. See :func:`hdrconv.color.bt2446.sdr_to_hdr_BT2446_C`."""

    name = "bt2446c"
    summary = "inverse tone mapping of ITU-R BT.2446-1 Method C (Yxy, SDR white -> ~333 cd/m2)"
    peak_nits = float(sdr_to_hdr_BT2446_C(sdr_BT709_to_BT2020(_WHITE)).max())

    def process(self, frames: torch.Tensor, state: Any) -> tuple[torch.Tensor, Any]:
        return sdr_to_hdr_BT2446_C(sdr_BT709_to_BT2020(frames)), state
