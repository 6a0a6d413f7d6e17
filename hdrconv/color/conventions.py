"""The one place that fixes how SDR is placed in HDR10, and what HDR10 output signals.

References
----------
- ITU-R BT.2408-7 (2023), "Guidance for operational practices in HDR television production", §2.2:
  HDR reference white (graphics white, 100 % SDR white) is 203 cd/m2.
- SMPTE ST 2084:2014 (PQ): absolute luminance, 10 000 cd/m2 peak.
- SMPTE ST 2086:2018: mastering display colour volume; HDR10 carries it with MaxCLL/MaxFALL
  (CTA-861.3-A).
- Recommendation ITU-R BT.709-6 (2015), BT.2020-2 (2015) and BT.1886 (2011): the luma/luminance
  weights of the SDR and HDR primaries and the exponent of the SDR reference display.
"""

from __future__ import annotations

from dataclasses import dataclass

REFERENCE_WHITE_NITS = 203.0
"""SDR 100 % (reference/graphics white) in HDR, cd/m2 (ITU-R BT.2408 §2.2)."""

PQ_PEAK_NITS = 10000.0
"""Peak luminance of the PQ signal range, cd/m2 (SMPTE ST 2084)."""

BT1886_GAMMA = 2.4
"""Exponent of the ITU-R BT.1886 reference EOTF (Annex 1), ``L = a max(V + b, 0) ** 2.4``: how SDR
signals become display light; with zero black level, display light is the signal to the power 2.4."""

ALT_EXP_GAMMA = 2.2
"""The curve alternating-exposure frames are re-encoded with once their camera response is inverted,
``L = F^-1(I) ** (1 / 2.2)`` (Chen et al. 2021, §3.1, after Kalantari & Ramamoorthi 2019): every
``alt-exp`` model sees its frames in this one encoding, whatever the camera."""

SDR_COLOURSPACE = "ITU-R BT.709"
HDR_COLOURSPACE = "ITU-R BT.2020"

BT709_WEIGHTS = (0.2126, 0.7152, 0.0722)
"""R, G, B weights of BT.709 luma ``Y'`` on non-linear R'G'B' (ITU-R BT.709-6 Part 1, item 3.2) and of
relative luminance ``Y`` on linear RGB (the Y row of the BT.709 RGB -> XYZ matrix, rounded to the same
four decimals): one set of numbers for both uses."""

BT2020_WEIGHTS = (0.2627, 0.6780, 0.0593)
"""R, G, B weights of BT.2020 luma ``Y'`` on non-linear R'G'B' and of luminance ``Y_C`` on linear RGB
(ITU-R BT.2020-2, Table 4, non-constant and constant luminance): one set of numbers for both uses."""


@dataclass(frozen=True)
class MasteringDisplay:
    """SMPTE ST 2086 mastering display colour volume.

    Defaults: the common HDR10 mastering display, P3 primaries with a D65 white point,
    1000 cd/m2 peak and 0.0001 cd/m2 minimum.
    """

    red: tuple[float, float] = (0.680, 0.320)
    green: tuple[float, float] = (0.265, 0.690)
    blue: tuple[float, float] = (0.150, 0.060)
    white: tuple[float, float] = (0.3127, 0.3290)
    max_nits: float = 1000.0
    min_nits: float = 0.0001

    def x265(self) -> str:
        """The ``master-display`` string of x265: chromaticities in units of 0.00002, luminance in
        units of 0.0001 cd/m2 (the ST 2086 SEI fixed-point units), G, B, R order."""

        def xy(c):
            return f"({round(c[0] / 0.00002)},{round(c[1] / 0.00002)})"

        return (f"G{xy(self.green)}B{xy(self.blue)}R{xy(self.red)}WP{xy(self.white)}"
                f"L({round(self.max_nits / 0.0001)},{round(self.min_nits / 0.0001)})")


@dataclass(frozen=True)
class ContentLightLevel:
    """CTA-861.3 content light level: MaxCLL and MaxFALL in cd/m2 (integers in the signalling)."""

    max_cll: int
    max_fall: int
