"""Training and validation data from a folder of scene-linear HDR images.

- **Split** (:func:`split`): the validation images of ``../shared/hdr`` are named in
  :data:`VALIDATION_FILES` (7 of the 37, chosen to span the collection: a night street, a sky with the
  sun, a lit interior, a 25-stop interior, a sunset, a flower close-up at low dynamic range and a
  mountain landscape, from all three sources). Any other folder holds out every 5th image by name.
- **Scenes** (:func:`load_scenes`): images read once, downscaled (pixel-area averaging) so that the long
  side is at most ``max_size``, with the whole-image statistics the grading needs for crops.
- **Graphics scenes** (:func:`graphics_scenes`): procedural flat colours, bars and ramps added to the
  training scenes, so that a model also sees the saturated synthetic content (titles, test patterns,
  animation) photographs never show.
- **Validation samples** (:func:`itm_validation_samples`, :func:`itm_clip_samples`,
  :func:`alt_exposure_clip_samples`): whole images at the evaluation working size, with the fixed
  conditions of the evaluation protocol (:mod:`hdrconv.data.protocol`: in-family and held-out) and
  seeds, so that every model and every training run is judged on the same pixels.
"""

from __future__ import annotations

import colorsys
import hashlib
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch

from hdrconv.color.conventions import BT1886_GAMMA, HDR_COLOURSPACE, REFERENCE_WHITE_NITS, SDR_COLOURSPACE
from hdrconv.color.gamut import RGB_to_RGB
from hdrconv.errors import InputDataError
from hdrconv.io.hdr_image import read_hdr_image
from hdrconv.data.grading import alt_exp_HDR10, expose, exposure_gain, grade_HDR10, scene_key
from hdrconv.data.protocol import GROUPS, alt_exp_conditions, conditions, make_sample
from hdrconv.data.video import ALT_EXPOSURE_STOPS, alternating_exposure, auto_exposure, render_clip

VALIDATION_FILES = (
    "polyhaven-night.exr",
    "polyhaven-sky.exr",
    "polyhaven-lobby.exr",
    "blender-studiolight-interior.exr",
    "blender-studiolight-sunset.exr",
    "openexr-images-flowers.exr",
    "openexr-images-mttamwest.exr",
)
"""The held-out images of ``../shared/hdr`` (never used for training)."""

FALLBACK_VALIDATION_EVERY = 5
"""In a folder without the named files, every 5th image (sorted by name, starting with the first) is
held out."""

WORKING_SIZE = 512
"""Long side, in pixels, of images for validation and evaluation: the 37 images are 512 to 1218 pixels
wide, and at 512 the three analytic models evaluate on the validation split in seconds."""

TRAINING_MAX_SIZE = 1024
"""Long side, in pixels, images are kept at for training patches."""

VALIDATION_SEED = 20240601
"""Seed of everything random in validation samples (clip trajectories, noise)."""


def split(paths: list[Path]) -> tuple[list[Path], list[Path]]:
    """(training, validation) paths: the named :data:`VALIDATION_FILES` when the folder has any of
    them, else every :data:`FALLBACK_VALIDATION_EVERY`-th image."""
    paths = sorted(paths, key=lambda p: p.name)
    named = set(VALIDATION_FILES)
    if any(p.name in named for p in paths):
        val = [p for p in paths if p.name in named]
    else:
        val = paths[::FALLBACK_VALIDATION_EVERY]
    train = [p for p in paths if p not in val]
    return train, val


def manifest_hash(paths: list[Path]) -> str:
    """SHA-256 over the names and contents of ``paths``: identifies the data a model was trained on."""
    h = hashlib.sha256()
    for p in sorted(paths, key=lambda p: p.name):
        h.update(p.name.encode() + b"\0")
        h.update(hashlib.sha256(p.read_bytes()).digest())
    return h.hexdigest()


@dataclass
class Scene:
    """One scene-linear HDR image and the whole-image statistics that crops of it are graded with."""

    name: str
    image: torch.Tensor
    """``(3, H, W)`` float32 scene light, BT.709."""
    key: float
    """Log-average luminance (:func:`hdrconv.data.grading.scene_key`)."""
    max_rgb: float
    """Brightest max(R, G, B) once in BT.2020, scene units."""

    @classmethod
    def from_image(cls, name: str, image: torch.Tensor) -> Scene:
        """The scene of ``image`` with its statistics."""
        max_rgb = float(RGB_to_RGB(image, SDR_COLOURSPACE, HDR_COLOURSPACE).amax())
        return cls(name, image, scene_key(image), max_rgb)

    def source_peak(self, stops: float) -> float:
        """The grade's source peak in cd/m2 at exposure offset ``stops``."""
        return self.max_rgb * exposure_gain(self.key, stops) * REFERENCE_WHITE_NITS


def _downscale(image: np.ndarray, max_size: int) -> np.ndarray:
    h, w = image.shape[:2]
    f = max_size / max(h, w)
    if f >= 1:
        return image
    return cv2.resize(image, (max(1, round(w * f)), max(1, round(h * f))), interpolation=cv2.INTER_AREA)


def load_scenes(paths: list[Path], max_size: int) -> list[Scene]:
    """Read ``paths`` as :class:`Scene` objects, long side at most ``max_size``."""
    scenes = []
    for p in paths:
        image = torch.from_numpy(_downscale(read_hdr_image(p), max_size)).permute(2, 0, 1).contiguous()
        if not float(image.max()) > 0:
            raise InputDataError(f"{p}: image is black")
        scenes.append(Scene.from_image(p.name, image))
    return scenes


def graphics_image(rng: np.random.Generator, size: int = 512) -> torch.Tensor:
    """A procedural graphics scene ``(3, size, size)`` in scene-linear BT.709: a flat or graded
    background under 4 to 24 rectangles (full-height bars or boxes), flat or ramped, of random hue,
    mostly fully saturated (primaries, secondaries and everything between), over 8 stops of
    brightness, a few of them brighter than diffuse white (lights, neon)."""

    def colour() -> np.ndarray:
        saturation = 1.0 if rng.random() < 0.6 else rng.random()
        rgb = np.array(colorsys.hsv_to_rgb(rng.random(), saturation, 1.0)) ** BT1886_GAMMA  # signal -> light
        stops = rng.uniform(-6, 2) if rng.random() < 0.9 else rng.uniform(2, 4)
        return rgb * 2.0**stops

    def ramp(a: np.ndarray, b: np.ndarray, n: int) -> np.ndarray:
        return a[:, None] + (b - a)[:, None] * np.linspace(0, 1, n)[None]

    image = np.empty((3, size, size))
    a = colour()
    image[:] = (ramp(a, colour(), size)[:, :, None] if rng.random() < 0.5 else a[:, None, None])
    for _ in range(int(rng.integers(4, 25))):
        if rng.random() < 0.5:  # a bar, like a test pattern's
            y0, y1 = 0, size
        else:
            y0, y1 = sorted(int(v) for v in rng.integers(0, size, 2))
        x0, x1 = sorted(int(v) for v in rng.integers(0, size, 2))
        if y1 - y0 < 2 or x1 - x0 < 2:
            continue
        a = colour()
        if rng.random() < 0.3:  # a horizontal ramp
            image[:, y0:y1, x0:x1] = ramp(a, colour(), x1 - x0)[:, None, :]
        else:
            image[:, y0:y1, x0:x1] = a[:, None, None]
    return torch.from_numpy(image.astype(np.float32))


def graphics_scenes(count: int, seed: int, size: int = 512) -> list[Scene]:
    """``count`` :func:`graphics_image` scenes, reproducible from ``seed``."""
    rng = np.random.default_rng(seed)
    return [Scene.from_image(f"graphics-{i}", graphics_image(rng, size)) for i in range(count)]


@dataclass
class Sample:
    """One validation / evaluation case: model input and ground truth."""

    name: str
    sdr: torch.Tensor
    """``(T, 3, h, w)`` model input, BT.709 R'G'B' in [0, 1] (T = 1 for images)."""
    hdr: torch.Tensor
    """``(T, 3, h, w)`` ground truth, linear BT.2020 cd/m2."""
    coords: torch.Tensor | None = None
    valid: torch.Tensor | None = None
    group: str = "in-family"
    """Group of the evaluation protocol (:data:`hdrconv.data.protocol.GROUPS`); ITM clips are in-family."""
    exposures: tuple[float, ...] | None = None
    """Each input frame's exposure in stops (alternating-exposure clips)."""


def itm_validation_samples(scenes: list[Scene], groups: tuple[str, ...] = GROUPS) -> list[Sample]:
    """Every scene under every condition of ``groups`` of the evaluation protocol
    (:mod:`hdrconv.data.protocol`), named ``IMAGE/CONDITION``."""
    return [Sample(f"{s.name}/{c.name}", *make_sample(s, c), group=c.group) for s in scenes for c in conditions(groups)]


def _clips(scenes: list[Scene], frames: int):
    rng = np.random.default_rng(VALIDATION_SEED)
    for s in scenes:
        _, H, W = s.image.shape
        clip = render_clip(s.image, rng, frames, (H // 2, W // 2))
        relative = expose(clip.frames, s.key)
        yield s, clip, relative, grade_HDR10(relative, s.source_peak(0.0)), rng


def itm_clip_samples(scenes: list[Scene], frames: int = 8) -> list[Sample]:
    """One clip per scene (a random camera path over half of the image, with a moving foreground
    patch); the SDR input is the auto-exposed camera of the video ITM supplementary (§2, Eq. 1-3),
    whose exposure follows the content, while the HDR10 grade keeps the scene's anchor."""
    return [Sample(s.name, auto_exposure(relative)[0], nits, clip.coords, clip.valid)
            for s, clip, relative, nits, _ in _clips(scenes, frames)]


def alt_exposure_clip_samples(scenes: list[Scene], exposures: int = 2, frames: int = 8) -> list[Sample]:
    """One alternating-exposure clip per scene and condition of the protocol
    (:func:`hdrconv.data.protocol.alt_exp_conditions`; same paths as :func:`itm_clip_samples`, one
    exposure step per scene), seeded, with each frame's exposure and the scene graded as ``hdrconv
    alt-exp`` grades (:func:`~hdrconv.data.grading.alt_exp_HDR10`) as the ground truth."""
    samples = []
    for s, clip, relative, _, rng in _clips(scenes, frames):
        step = int(rng.choice(ALT_EXPOSURE_STOPS))
        for c in alt_exp_conditions():
            light = relative * 2.0**c.key_stops
            taken = alternating_exposure(light, rng, exposures, step, crf=c.crf)
            ev = tuple(taken.ev.tolist())
            samples.append(Sample(f"{s.name}/{c.name}", taken.ldr, alt_exp_HDR10(light, ev), clip.coords, clip.valid,
                                  group=c.group, exposures=ev))
    return samples
