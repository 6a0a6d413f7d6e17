"""The ground-truth HDR10 grading of a scene-linear HDR image: the one definition every training sample,
validation sample and metric of this project uses.

A scene-linear image (any scale, BT.709 primaries as in ``../shared/hdr``) becomes an HDR10 grade in
three steps:

1. **Exposure normalisation** (:func:`expose`). The anchor is the scene key, the log-average luminance
   of Reinhard et al. 2002 (Eq. 1), which photographic practice places at middle grey. It is mapped to
   the BT.2408 middle-grey level, 26 cd/m2 for a 203 cd/m2 reference white (ITU-R BT.2408-7, Table 1:
   18 % grey card at 26 cd/m2, 38 % PQ), times ``2 ** stops``. Training draws ``stops`` uniformly in
   [-:data:`EXPOSURE_JITTER_STOPS`, +:data:`EXPOSURE_JITTER_STOPS`] (:func:`random_exposure_stops`)
   so that a model does not learn one brightness per scene; validation and evaluation use 0. The
   result is *relative* scene light: 1.0 is the reference white, which is also SDR peak white (the
   same unit the SDR synthesis of :mod:`hdrconv.data.synthesis` starts from).
2. **Rendering** to display light (:data:`RENDERINGS`), then BT.709 -> BT.2020 primaries (linear,
   :func:`hdrconv.color.gamut.RGB_to_RGB`), everything above 10 000 cd/m2 (the PQ range) clipped:
   - ``display`` (training's): the ITU-R BT.2100 PQ reference OOTF
     (:func:`hdrconv.color.transfer.ootf_BT2100_PQ`) on the BT.709 components (:meth:`Grade.render`
     says why), its scene-light scale chosen so that middle
     grey lands at the grade's middle-grey level (26 cd/m2: reference white then lands at 304). This
     is how SDR is rendered too (a BT.709 camera seen on a BT.1886 display), and why a camera's SDR
     looks as it does: measured on the validation images with the camera rendering, the SDR has a
     mean ICtCp chroma of 0.069 and a log2-luminance spread of 2.27 stops, this grade 0.073 / 2.12;
   - ``scene`` (training's until the held-out check of real photographs): relative light times
     203 cd/m2 (:data:`REFERENCE_WHITE_NITS`, BT.2408 §2.2), no system gamma: 0.058 / 1.62 on the
     same images, paler and flatter than the camera's SDR. Models trained on it learned to flatten
     camera-like SDR, and did so on real photographs (``bench/real_photographs.py``: FastITM
     0.053 chroma on the astronaut against the SDR's 0.074).
3. **Highlight roll-off** to the mastering display peak (default 1000 cd/m2, the ST 2086 default of
   :class:`hdrconv.color.conventions.MasteringDisplay`): the ITU-R BT.2390-8 §5.4.1 EETF, from the
   graded source peak (the image's brightest max(R, G, B), at least the mastering peak) to the
   mastering peak, in the PQ domain. It is applied to max(R, G, B) and the pixel is scaled by the ratio
   of the linear values, which keeps hue and saturation of highlights (applied per channel, the EETF
   would bleach saturated highlights towards white). Below the knee (317 cd/m2 for a
   10 000 -> 1000 cd/m2 roll-off, higher for dimmer sources) the grade is untouched, so middle grey
   keeps its BT.2408 level.

The HDR10 signal is the PQ coding (SMPTE ST 2084) of the result: :func:`hdrconv.color.transfer.
eotf_inverse_ST2084` of the linear BT.2020 cd/m2 this module returns. Tensors are ``(..., 3, H, W)``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import torch

from hdrconv.color._colour import colour
from hdrconv.color.transfer import ootf_BT2100_PQ
from hdrconv.color.conventions import (BT709_WEIGHTS, HDR_COLOURSPACE, PQ_PEAK_NITS, REFERENCE_WHITE_NITS,
                                       SDR_COLOURSPACE, MasteringDisplay)
from hdrconv.color.gamut import RGB_to_RGB
from hdrconv.color.bt2390 import eetf_BT2390_max_RGB, eetf_BT2390_nits

MIDDLE_GREY_NITS = 26.0
"""Middle grey (18 % grey card) for a 203 cd/m2 reference white, cd/m2 (ITU-R BT.2408-7, Table 1)."""

EXPOSURE_JITTER_STOPS = 1.0
"""Half-width, in stops, of the uniform random exposure around the scene-key anchor in training."""

MASTERING_PEAK_NITS = MasteringDisplay().max_nits
"""Peak of the graded highlights, cd/m2 (the HDR10 mastering display default, 1000 cd/m2)."""

ROLL_OFFS = ("max-rgb", "per-channel")
"""How :func:`grade_HDR10` applies the BT.2390 EETF: on max(R, G, B), every channel scaled alike
(training's, keeps the hue of highlights), or on each channel (bleaches saturated highlights towards
white, as a per-channel PQ LUT does)."""


RENDERINGS = ("display", "scene")
"""How :func:`grade_HDR10` turns relative scene light into display light (see the module docstring)."""


@dataclass(frozen=True)
class Grade:
    """A grading convention of the HDR10 ground truth: the rendering (:data:`RENDERINGS`), the level
    middle grey is displayed at, the mastering peak the highlights roll off to, and how
    (:data:`ROLL_OFFS`). Training always grades with :data:`TRAINING_GRADE`; the held-out protocol
    (:mod:`hdrconv.data.protocol`) also uses others."""

    middle_grey_nits: float = MIDDLE_GREY_NITS
    peak_nits: float = MASTERING_PEAK_NITS
    roll_off: str = "max-rgb"
    rendering: str = "display"

    def __post_init__(self):
        if self.roll_off not in ROLL_OFFS:
            raise ValueError(f"unknown roll-off {self.roll_off!r} (known: {', '.join(ROLL_OFFS)})")
        if self.rendering not in RENDERINGS:
            raise ValueError(f"unknown rendering {self.rendering!r} (known: {', '.join(RENDERINGS)})")

    @property
    def stops(self) -> float:
        """Exposure offset, in stops, of the relative light this grade renders (:func:`expose`): the
        ``scene`` rendering places middle grey by exposure; the ``display`` rendering renders the
        anchored exposure and places grey by the scale of its OOTF (:meth:`ootf_scale`)."""
        if self.rendering == "display":
            return 0.0
        return float(np.log2(self.middle_grey_nits / MIDDLE_GREY_NITS))

    def ootf_scale(self) -> float:
        """``display`` rendering: the factor from relative light (1.0 = reference white, middle grey at
        26 / 203) to the OOTF's scene light E, so that middle grey is displayed at
        ``middle_grey_nits``."""
        return _ootf_scale(self.middle_grey_nits)

    def render(self, relative: torch.Tensor) -> torch.Tensor:
        """Step 2: relative BT.709 light -> display light in cd/m2, linear BT.2020, in the PQ range.

        The OOTF works on the BT.709 components, as a BT.709 camera's OETF does: applied in BT.2020 it
        would push BT.709 colours outside BT.709 (a BT.709 red gains negative green and blue once
        back in BT.709), a gamut expansion no SDR source supports."""
        if self.rendering == "scene":
            nits = RGB_to_RGB(relative, SDR_COLOURSPACE, HDR_COLOURSPACE, scale=REFERENCE_WHITE_NITS)
        else:
            nits = RGB_to_RGB(ootf_BT2100_PQ(relative * self.ootf_scale()), SDR_COLOURSPACE, HDR_COLOURSPACE)
        return nits.clamp_(0, PQ_PEAK_NITS)

    def render_peak(self, source_peak: float) -> float:
        """The display light of a source peak (:func:`source_peak_nits`, cd/m2 at reference white
        203), for the roll-off; the OOTF on the value itself."""
        if self.rendering == "scene":
            return source_peak
        E = torch.tensor(source_peak / REFERENCE_WHITE_NITS * self.ootf_scale(), dtype=torch.float64)
        return float(ootf_BT2100_PQ(E))


@functools.lru_cache(maxsize=None)
def _ootf_scale(middle_grey_nits: float) -> float:
    grey_E = float(colour.models.ootf_inverse_BT2100_PQ(middle_grey_nits))
    return grey_E / (MIDDLE_GREY_NITS / REFERENCE_WHITE_NITS)


TRAINING_GRADE = Grade()
"""The one grading convention of training samples and of the in-family validation."""

_KEY_EPSILON = 1e-6
"""Added before the logarithm of the key, relative to the image's mean luminance, so that black pixels
do not pull the key to zero (Reinhard et al. 2002, Eq. 1, "delta")."""


def luminance(rgb: torch.Tensor, weights: tuple[float, float, float] = BT709_WEIGHTS) -> torch.Tensor:
    """Relative luminance of linear RGB ``(..., 3, H, W)`` -> ``(..., H, W)``."""
    w = torch.as_tensor(weights, dtype=rgb.dtype, device=rgb.device)
    return torch.einsum("c,...chw->...hw", w, rgb)


def scene_key(scene: torch.Tensor) -> float:
    """Log-average luminance of linear BT.709 RGB (Reinhard et al. 2002, "Photographic tone
    reproduction for digital images", Eq. 1), in the units of ``scene``."""
    Y = luminance(scene.double())
    delta = _KEY_EPSILON * max(float(Y.mean()), 1e-30)
    return float(torch.exp(torch.log(Y + delta).mean()))


def random_exposure_stops(rng: np.random.Generator) -> float:
    """The randomised exposure offset of the grading anchor, uniform in +-EXPOSURE_JITTER_STOPS."""
    return float(rng.uniform(-EXPOSURE_JITTER_STOPS, EXPOSURE_JITTER_STOPS))


def exposure_gain(key: float, stops: float = 0.0) -> float:
    """Factor that maps scene light with log-average luminance ``key`` to relative light (1.0 =
    reference white) with the key at middle grey, ``2 ** stops`` brighter."""
    if not key > 0:
        raise ValueError(f"scene key must be positive, got {key}")
    return MIDDLE_GREY_NITS / REFERENCE_WHITE_NITS / key * 2.0**stops


def expose(scene: torch.Tensor, key: float | None = None, stops: float = 0.0) -> torch.Tensor:
    """Step 1: scene-linear BT.709 -> relative light (1.0 = reference white = SDR peak white).

    ``key`` defaults to the key of ``scene`` itself; pass the whole image's key when ``scene`` is a
    crop of it, so that a patch is exposed like the image it comes from.
    """
    return scene * exposure_gain(scene_key(scene) if key is None else key, stops)


def grade_HDR10(relative: torch.Tensor, source_peak: float | None = None,
                grade: Grade = TRAINING_GRADE) -> torch.Tensor:
    """Steps 2-4: relative BT.709 light (from :func:`expose`) -> graded linear BT.2020 in cd/m2, rendered
    and rolled off as ``grade`` says.

    ``source_peak`` is the brightest max(R, G, B) of the image placed at reference white 203 cd/m2 in
    BT.2020, before rendering (:func:`source_peak_nits`); it defaults to that of ``relative`` itself.
    Pass the whole image's value when grading a crop.
    """
    nits = grade.render(relative)
    if source_peak is None:
        source_peak = source_peak_nits(relative)
    source_peak = min(max(grade.render_peak(source_peak), grade.peak_nits), PQ_PEAK_NITS)
    if grade.roll_off == "per-channel":
        return eetf_BT2390_nits(nits, source_peak, grade.peak_nits)
    return eetf_BT2390_max_RGB(nits, source_peak, grade.peak_nits)


def alt_exp_HDR10(radiance: torch.Tensor, stops: tuple[float, ...], peak: float = MASTERING_PEAK_NITS,
                  white_nits: float = REFERENCE_WHITE_NITS) -> torch.Tensor:
    """Steps 2-4 for the scene radiance an ``alt-exp`` model returns (units of the EV 0 clipping level,
    which is relative light 1.0) from a clip whose frames are exposed at ``stops``: ``white_nits`` at
    1.0, and the roll-off from the darkest frame's clipping level, ``2 ** -min(stops)``, the brightest
    radiance the clip can hold (known before any frame is seen, the same for every frame)."""
    source_peak = min(white_nits * 2.0 ** -min(stops), PQ_PEAK_NITS)
    relative = radiance * (white_nits / REFERENCE_WHITE_NITS) if white_nits != REFERENCE_WHITE_NITS else radiance
    return grade_HDR10(relative, source_peak=source_peak, grade=Grade(peak_nits=peak, rendering="scene"))


def source_peak_nits(relative: torch.Tensor) -> float:
    """Brightest max(R, G, B) in cd/m2 of relative BT.709 light once placed in BT.2020 (reference white
    at 203 cd/m2), capped at the PQ peak: the source peak of the roll-off, before rendering."""
    nits = RGB_to_RGB(relative * REFERENCE_WHITE_NITS, SDR_COLOURSPACE, HDR_COLOURSPACE)
    return min(float(nits.amax()), PQ_PEAK_NITS)
