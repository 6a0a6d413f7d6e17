"""SDR input synthesis: the SDR version of a scene whose HDR10 ground truth is
:func:`hdrconv.data.grading.grade_HDR10`.

No SDR/HDR10 pairs can be downloaded here, so the SDR side is made by tone mapping the same scene. A
model trained on one tone mapper learns one inverse, and real SDR comes from cameras and graders that
use many curves; so every sample draws its own :class:`SDRRecipe` (:func:`random_recipe`) from this
*family*:

- ``clip``: exposure and hard clip per channel, a camera without highlight roll-off;
- ``reinhard``: extended Reinhard, L (1 + L / L_white^2) / (1 + L) (Reinhard et al. 2002, Eq. 4), with
  a random white point;
- ``hable``: the Hable "Uncharted 2" filmic curve (J. Hable, "Filmic tonemapping operators", 2010:
  A..F = 0.15, 0.50, 0.10, 0.20, 0.02, 0.30, linear white W = 11.2, exposure bias 2);
- ``camera``: a broadcast camera, the ITU-R BT.709 OETF with a knee (above a knee point of 80-95 %
  signal, a straight line that brings a random white clip of 200-600 % scene light to 100 %), shown on
  a BT.1886 display: the end-to-end gamma of about 1.2 of real SDR television (ITU-R BT.2390 §6.1);
- ``bt2446a``, ``bt2446c``: Report ITU-R BT.2446-1 Methods A and C, HDR to SDR
  (:mod:`hdrconv.color.bt2446`), applied to the HDR10 grade itself, as a broadcaster would derive SDR;
- ``drago``: the adaptive logarithmic mapping of Drago et al. 2003 ("Adaptive Logarithmic Mapping
  for Displaying High Contrast Scenes", Eq. 4, display white 100 cd/m2), with a random bias, adapted
  to the brightest light of the sample;
- ``sigmoid``: a generic filmic S-curve, f(a x) / f(a W) with f(y) = y^c / (y^c + 1), a = 2, random
  contrast c and white point W: the shape of most camera "looks" and grading LUTs;
- ``eetf``: the HDR10 grade shown on an SDR display the way players and TVs do it: the ITU-R BT.2390
  EETF from the mastering peak down to an SDR white of 100-203 cd/m2 (per channel, or on max(R, G, B)
  keeping the hue), display light relative to that white. Unlike the scene-referred curves above, it
  keeps the grade's mid-tones in cd/m2, so its SDR is up to a stop brighter.

Training draws from all nine (:data:`hdrconv.data.family.TONE_MAPPERS`, or a subset:
``--tone-mappers``); validation and evaluation keep the first six (:data:`EVALUATION_TONE_MAPPERS`),
so that every model card and every ``hdrconv eval`` table is judged on the same pixels as before the
family grew.

The camera-like curves (``clip``, ``reinhard``, ``hable``, ``drago``, ``sigmoid``) see the relative scene light of
:func:`hdrconv.data.grading.expose` (1.0 = reference white = SDR peak white, BT.2408) times a random
SDR exposure of +-:data:`SDR_EXPOSURE_STOPS`. Saturation handling: ``reinhard``, ``hable``, ``drago``
and ``sigmoid`` run
either per channel (highlights bleach to white, like film and most cameras) or on luminance with the
colour correction of Mantiuk et al. 2009 ("Color correction for tone mapping": C_out =
(C_in / L_in) ** s * L_out) with a random saturation exponent s. The BT.2446 outputs are BT.2020 and
go through :func:`gamut_map_BT2020_to_BT709`. Then every sample is BT.1886 encoded (gamma 2.4, 1.0 =
SDR peak white), quantised to 8 bits and, with probability :data:`H264_PROBABILITY`, compressed with
H.264 (libx264 through PyAV) at a random CRF in :data:`H264_CRF_RANGE`.

Two more curves are **never** drawn in training (:data:`hdrconv.data.family.HELD_OUT_TONE_MAPPERS`,
refused by :func:`random_recipe`); only the held-out protocol (:mod:`hdrconv.data.protocol`) uses
them:

- ``aces``: the ACES filmic fit of K. Narkowicz ("ACES Filmic Tone Mapping Curve", 2016),
  x (2.51 x + 0.03) / (x (2.43 x + 0.59) + 0.14) per channel on the exposed relative scene light, as
  games and many renderers use it;
- ``ffmpeg-reinhard``: FFmpeg's ``tonemap=reinhard`` as a user runs it on an HDR10 file: x / (x + 1)
  (peak + 1) / peak on max(R, G, B) in units of 100 cd/m2, peak = the mastering peak / 100 cd/m2.

Tensors are ``(..., 3, H, W)``; the SDR result is BT.709 R'G'B' in [0, 1] on the 8-bit grid (k / 255),
the input domain of every model (:mod:`hdrconv.models.base`).
"""

from __future__ import annotations

import io
import math
from dataclasses import asdict, dataclass

import av
import numpy as np
import torch

from hdrconv.color.bt2390 import eetf_BT2390_max_RGB, eetf_BT2390_nits
from hdrconv.color.bt2446 import hdr_to_sdr_BT2446_A, hdr_to_sdr_BT2446_C
from hdrconv.color.conventions import HDR_COLOURSPACE, SDR_COLOURSPACE
from hdrconv.color.gamut import RGB_to_RGB
from hdrconv.color.transfer import eotf_BT1886, eotf_inverse_BT1886, oetf_BT709
from hdrconv.data.family import HELD_OUT_TONE_MAPPERS, TONE_MAPPERS
from hdrconv.data.grading import MASTERING_PEAK_NITS, luminance


EVALUATION_TONE_MAPPERS = TONE_MAPPERS[:6]
"""The tone mappers of validation and evaluation samples (:func:`evaluation_recipes`)."""

SDR_EXPOSURE_STOPS = 0.5
"""Half-width, in stops, of the random SDR exposure of the camera-like tone mappers."""

REINHARD_WHITE_RANGE = (2.0, 32.0)
"""Log-uniform range of the extended Reinhard white point, in relative light (1.0 = reference white)."""

KNEE_POINT_RANGE = (0.80, 0.95)
"""Uniform range of the camera knee point, BT.709 signal."""

KNEE_WHITE_RANGE = (2.0, 6.0)
"""Uniform range of the camera white clip, relative scene light (200-600 %)."""

DRAGO_BIAS_RANGE = (0.7, 0.9)
"""Uniform range of the Drago et al. 2003 bias parameter b (the paper recommends 0.7-0.9)."""

SIGMOID_CONTRAST_RANGE = (1.1, 1.7)
"""Uniform range of the contrast exponent c of the ``sigmoid`` curve."""

SIGMOID_WHITE_RANGE = (4.0, 16.0)
"""Log-uniform range of the ``sigmoid`` white point, relative scene light."""

SDR_WHITE_RANGE = (100.0, 203.0)
"""Log-uniform range of the SDR white, cd/m2, of the ``eetf`` tone mapper."""

SATURATION_RANGE = (0.6, 1.0)
"""Uniform range of the Mantiuk et al. 2009 saturation exponent s of the luminance-based variants."""

H264_PROBABILITY = 0.25
"""Probability that a training sample is H.264 compressed."""

H264_CRF_RANGE = (18, 32)
"""Inclusive range of the libx264 CRF of compressed samples (visually lossless to streaming quality)."""

_HABLE = (0.15, 0.50, 0.10, 0.20, 0.02, 0.30)
_HABLE_WHITE = 11.2
_HABLE_EXPOSURE_BIAS = 2.0


@dataclass(frozen=True)
class SDRRecipe:
    """How one SDR sample is made; stored in model cards as the synthesis settings."""

    tone_mapper: str
    exposure_stops: float = 0.0
    """SDR exposure relative to the grading anchor (camera-like tone mappers only)."""
    reinhard_white: float = 8.0
    knee_point: float = 0.85
    knee_white: float = 4.0
    drago_bias: float = 0.85
    sigmoid_contrast: float = 1.4
    sigmoid_white: float = 8.0
    sdr_white: float = 100.0
    per_channel: bool = True
    """Tone map R, G, B separately (else luminance with the saturation exponent)."""
    saturation: float = 1.0
    crf: int | None = None
    """libx264 CRF, or None for no compression."""

    def __post_init__(self):
        if self.tone_mapper not in TONE_MAPPERS + HELD_OUT_TONE_MAPPERS:
            raise ValueError(f"unknown tone mapper {self.tone_mapper!r} "
                             f"(known: {', '.join(TONE_MAPPERS + HELD_OUT_TONE_MAPPERS)})")

    def as_dict(self) -> dict:
        return asdict(self)


def random_recipe(rng: np.random.Generator, tone_mappers: tuple[str, ...] = TONE_MAPPERS,
                  h264_probability: float = H264_PROBABILITY) -> SDRRecipe:
    """Draw a recipe: tone mapper uniformly from ``tone_mappers``, then its parameters. The held-out
    tone mappers are refused: no training sample may come from them."""
    held_out = set(tone_mappers) & set(HELD_OUT_TONE_MAPPERS)
    if held_out:
        raise ValueError(f"held-out tone mappers are never drawn: {', '.join(sorted(held_out))}")
    lo, hi = REINHARD_WHITE_RANGE
    return SDRRecipe(
        tone_mapper=str(rng.choice(tone_mappers)),
        exposure_stops=float(rng.uniform(-SDR_EXPOSURE_STOPS, SDR_EXPOSURE_STOPS)),
        reinhard_white=float(np.exp(rng.uniform(np.log(lo), np.log(hi)))),
        knee_point=float(rng.uniform(*KNEE_POINT_RANGE)),
        knee_white=float(rng.uniform(*KNEE_WHITE_RANGE)),
        drago_bias=float(rng.uniform(*DRAGO_BIAS_RANGE)),
        sigmoid_contrast=float(rng.uniform(*SIGMOID_CONTRAST_RANGE)),
        sigmoid_white=float(np.exp(rng.uniform(*np.log(SIGMOID_WHITE_RANGE)))),
        sdr_white=float(np.exp(rng.uniform(*np.log(SDR_WHITE_RANGE)))),
        per_channel=bool(rng.random() < 0.5),
        saturation=float(rng.uniform(*SATURATION_RANGE)),
        crf=int(rng.integers(H264_CRF_RANGE[0], H264_CRF_RANGE[1] + 1)) if rng.random() < h264_probability else None,
    )


def evaluation_recipes() -> list[SDRRecipe]:
    """The fixed recipes of validation and evaluation: each tone mapper once, mid-range parameters,
    luminance-based with s = 0.8 for the curves that have the choice, no compression."""
    return [SDRRecipe(t, per_channel=t == "clip", saturation=0.8) for t in EVALUATION_TONE_MAPPERS]


def reinhard_extended(L: torch.Tensor, white: float) -> torch.Tensor:
    """Extended Reinhard curve (Reinhard et al. 2002, Eq. 4): ``white`` maps to 1."""
    return L * (1 + L / white**2) / (1 + L)


def hable_filmic(x: torch.Tensor) -> torch.Tensor:
    """Hable's Uncharted 2 filmic curve with exposure bias 2, normalised so that W = 11.2 maps to 1."""

    def f(x):
        A, B, C, D, E, F = _HABLE
        return (x * (A * x + C * B) + D * E) / (x * (A * x + B) + D * F) - E / F

    return f(_HABLE_EXPOSURE_BIAS * x) / f(torch.tensor(_HABLE_WHITE, dtype=x.dtype))


def drago_adaptive_log(L: torch.Tensor, bias: float, L_max: float) -> torch.Tensor:
    """Drago et al. 2003, Eq. 4, with display white L_dmax = 100 cd/m2 (its factor 0.01 L_dmax is 1):
    ``log(L + 1) / log(2 + 8 (L / L_max) ** (log b / log 0.5)) / log10(L_max + 1)``; ``L_max`` maps
    to 1."""
    exponent = math.log(bias) / math.log(0.5)
    L = L.clamp(min=0)
    return torch.log1p(L) / torch.log(2 + 8 * (L / L_max) ** exponent) / math.log10(L_max + 1)


def sigmoid_filmic(x: torch.Tensor, contrast: float, white: float, scale: float = 2.0) -> torch.Tensor:
    """``f(scale x) / f(scale white)``, ``f(y) = y^c / (y^c + 1)``: an S-curve in log light whose
    ``white`` maps to 1."""

    def f(y):
        yc = y.clamp(min=0) ** contrast
        return yc / (yc + 1)

    return f(scale * x) / f(torch.tensor(scale * white, dtype=x.dtype))


SDR_DISPLAY_NITS = 100.0
"""Peak of the SDR display of FFmpeg's ``tonemap`` filter (its ``REFERENCE_WHITE``), cd/m2."""


def aces_filmic(x: torch.Tensor) -> torch.Tensor:
    """Narkowicz's fit of the ACES filmic curve: relative light -> SDR display light in [0, 1]."""
    x = x.clamp(min=0)
    return (x * (2.51 * x + 0.03) / (x * (2.43 * x + 0.59) + 0.14)).clamp(0, 1)


def reinhard_ffmpeg(nits: torch.Tensor, peak: float = MASTERING_PEAK_NITS / SDR_DISPLAY_NITS) -> torch.Tensor:
    """FFmpeg's ``tonemap=reinhard`` on max(R, G, B) of an HDR10 grade (linear BT.2020, cd/m2):
    linear BT.2020 display light, 1.0 = the 100 cd/m2 SDR peak."""
    m = nits.clamp(min=0).amax(dim=-3, keepdim=True) / SDR_DISPLAY_NITS
    scale = (m / (m + 1) * (peak + 1) / peak) / m.clamp(min=1e-6)
    return nits.clamp(min=0) / SDR_DISPLAY_NITS * scale


def eetf_to_SDR(nits: torch.Tensor, sdr_white: float, per_channel: bool) -> torch.Tensor:
    """An HDR10 grade (linear BT.2020, cd/m2) on an SDR display of white ``sdr_white`` cd/m2: the
    ITU-R BT.2390 EETF from :data:`hdrconv.data.grading.MASTERING_PEAK_NITS` down to ``sdr_white``,
    on each channel or on max(R, G, B) (then every channel scaled alike), divided by ``sdr_white``:
    linear BT.2020 display light, 1.0 = SDR white."""
    nits = nits.clamp(min=0)
    if per_channel:
        return eetf_BT2390_nits(nits, MASTERING_PEAK_NITS, sdr_white) / sdr_white
    return eetf_BT2390_max_RGB(nits, MASTERING_PEAK_NITS, sdr_white) / sdr_white


def camera_knee(L: torch.Tensor, knee_point: float, white: float) -> torch.Tensor:
    """BT.709 camera signal with a knee: :func:`~hdrconv.color.transfer.oetf_BT709` up to
    ``knee_point``, then a straight line (in signal) that reaches 1.0 at scene light ``white``, clipped
    there."""
    V = oetf_BT709(L)
    slope = (1 - knee_point) / (float(oetf_BT709(torch.tensor(white))) - knee_point)
    return torch.where(V < knee_point, V, knee_point + (V - knee_point) * slope).clamp(0, 1)


def _tone_map_luminance_or_channels(rgb: torch.Tensor, curve, recipe: SDRRecipe) -> torch.Tensor:
    if recipe.per_channel:
        return curve(rgb)
    L = luminance(rgb).unsqueeze(-3)
    ratio = torch.where(L > 0, rgb / L.clamp(min=1e-12), torch.zeros_like(rgb))
    return ratio**recipe.saturation * curve(L)


def gamut_map_BT2020_to_BT709(rgb2020: torch.Tensor) -> torch.Tensor:
    """Linear BT.2020 -> linear BT.709, colours outside BT.709 desaturated towards their own luminance
    until no component is negative (constant luminance, constant hue), then clipped to [0, 1]."""
    rgb = RGB_to_RGB(rgb2020, HDR_COLOURSPACE, SDR_COLOURSPACE)
    Y = luminance(rgb).unsqueeze(-3).clamp(min=0)
    low = rgb.amin(dim=-3, keepdim=True)
    # largest t in [0, 1] with Y + t (rgb - Y) >= 0 in every channel
    t = torch.where(low < 0, Y / (Y - low).clamp(min=1e-12), torch.ones_like(low)).clamp(0, 1)
    return (Y + t * (rgb - Y)).clamp(0, 1)


def tone_map_SDR(relative: torch.Tensor, graded_nits: torch.Tensor, recipe: SDRRecipe) -> torch.Tensor:
    """The tone-mapping step: linear BT.709 SDR display light in [0, 1] (1.0 = SDR peak white).

    ``relative`` is the exposed scene (:func:`hdrconv.data.grading.expose`), ``graded_nits`` its HDR10
    grade (:func:`hdrconv.data.grading.grade_HDR10`); the BT.2446 methods start from the latter.
    """
    t = recipe.tone_mapper
    if t == "ffmpeg-reinhard":
        return gamut_map_BT2020_to_BT709(reinhard_ffmpeg(graded_nits))
    if t == "eetf":
        return gamut_map_BT2020_to_BT709(eetf_to_SDR(graded_nits, recipe.sdr_white, recipe.per_channel))
    if t in ("bt2446a", "bt2446c"):
        convert = hdr_to_sdr_BT2446_A if t == "bt2446a" else hdr_to_sdr_BT2446_C
        return gamut_map_BT2020_to_BT709(eotf_BT1886(convert(graded_nits).clamp(min=0)))
    x = relative.clamp(min=0) * 2.0**recipe.exposure_stops
    if t == "clip":
        out = x
    elif t == "reinhard":
        out = _tone_map_luminance_or_channels(x, lambda L: reinhard_extended(L, recipe.reinhard_white), recipe)
    elif t == "camera":
        out = eotf_BT1886(camera_knee(x, recipe.knee_point, recipe.knee_white))
    elif t == "drago":
        L_max = max(float(luminance(x).max()), 1.0)  # adapted to the sample's brightest light
        out = _tone_map_luminance_or_channels(
            x, lambda L: drago_adaptive_log(L, recipe.drago_bias, L_max), recipe)
    elif t == "aces":
        out = aces_filmic(x)
    elif t == "sigmoid":
        out = _tone_map_luminance_or_channels(
            x, lambda L: sigmoid_filmic(L, recipe.sigmoid_contrast, recipe.sigmoid_white), recipe)
    else:
        out = _tone_map_luminance_or_channels(x, hable_filmic, recipe)
    return out.clamp(0, 1)


def quantise_8bit(V: torch.Tensor) -> torch.Tensor:
    """Round a [0, 1] signal to the 8-bit grid k / 255."""
    return torch.round(V.clamp(0, 1) * 255) / 255


def h264_roundtrip(frames: torch.Tensor, crf: int, preset: str = "veryfast") -> torch.Tensor:
    """Encode 8-bit R'G'B' frames ``(T, 3, H, W)`` with libx264 (4:2:0, BT.709 Y'CbCr) at ``crf`` and
    decode them again: the compression artefacts and chroma subsampling of real SDR video."""
    T, _, H, W = frames.shape
    # 4:2:0 needs even sizes: pad by replicating the edge, crop after decoding
    Hp, Wp = H + H % 2, W + W % 2
    rgb = (frames.clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()
    rgb = np.pad(rgb, ((0, 0), (0, Hp - H), (0, Wp - W), (0, 0)), mode="edge")
    buf = io.BytesIO()
    with av.open(buf, mode="w", format="matroska") as out:
        stream = out.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = Wp, Hp, "yuv420p"
        stream.options = {"crf": str(crf), "preset": preset}
        for f in rgb:
            frame = av.VideoFrame.from_ndarray(f, format="rgb24").reformat(
                format="yuv420p", dst_colorspace="itu709")
            out.mux(stream.encode(frame))
        out.mux(stream.encode())
    buf.seek(0)
    with av.open(buf, mode="r") as inp:
        decoded = [f.reformat(format="rgb24", src_colorspace="itu709").to_ndarray()
                   for f in inp.decode(video=0)]
    out_rgb = torch.from_numpy(np.stack(decoded)[:, :H, :W]).permute(0, 3, 1, 2)
    return out_rgb.to(frames.dtype) / 255


def synthesize_SDR(relative: torch.Tensor, graded_nits: torch.Tensor, recipe: SDRRecipe) -> torch.Tensor:
    """The SDR input of one sample (or one clip, ``(T, 3, H, W)``, with one recipe for all its frames):
    tone mapping, BT.1886 encoding, 8-bit quantisation and the recipe's H.264 compression.
    Returns BT.709 R'G'B' in [0, 1] on the 8-bit grid."""
    V = quantise_8bit(eotf_inverse_BT1886(tone_map_SDR(relative, graded_nits, recipe)))
    if recipe.crf is None:
        return V
    frames = V if V.dim() == 4 else V.unsqueeze(0)
    out = h264_roundtrip(frames, recipe.crf)
    return out if V.dim() == 4 else out[0]

