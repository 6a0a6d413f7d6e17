"""Training samplers: how ``hdrconv train`` draws a batch for a task.

The training loop takes its batches from ``SAMPLERS[model.task]`` (:class:`Sampler`); a model of
another task (clips with known warps, alternating-exposure clips with their exposures, low- and
high-resolution pairs) comes with its sampler here, and the loop stays as it is.

- **Patches** (``"itm"``, :func:`itm_batch`, per-frame ITM): random crops of the training scenes with
  random flips / rot90, graded with the randomised anchor of :mod:`hdrconv.data.grading` and turned
  into SDR with a random recipe of :mod:`hdrconv.data.synthesis`: pairs (BT.709 R'G'B' 8-bit SDR, PQ
  BT.2020 R'G'B' HDR10).
- **Alternating-exposure clips** (``"alt-exp"``, :func:`alt_exp_batch`, coarse-to-fine paper §5.1): a
  short clip along a random camera path with a moving foreground (:func:`hdrconv.data.video.render_clip`;
  :data:`STILL_CLIPS` of them from a tripod instead) over a random region of a training scene, random
  flips / rot90, the grading anchor's random exposure,
  rendered as alternating-exposure LDR frames (:func:`hdrconv.data.video.alternating_exposure`: exposures
  +-s or -s, 0, +s, s of 1 to 3 stops, linear and shot noise, one of :data:`ALT_EXP_CAMERAS`' responses,
  8 bits, H.264 compressed as the ITM samples are with :data:`~hdrconv.data.synthesis.H264_PROBABILITY`)
  starting at a random phase of the cycle, so that the centre frame is each exposure in turn, read back
  through the camera's response into gamma 2.2, then every frame brought onto the centre one as the
  model's inference does (:func:`hdrconv.models.alignment.align_to`); the target
  is the centre frame's relative scene light (the network's radiance: 1.0 is the EV 0 clipping level).
  The clips keep the true camera response. The paper perturbs the reference frame's tone by a gamma
  exp(d), d in [-0.7, 0.7] (§5.1), against an inaccurate CRF; with half the clips perturbed, 500
  steps of the CPU network took the training loss of unperturbed clips from 0.053 to 0.091 (perturbed:
  0.222 to 0.131) and the 2-exposure validation from 34.10 to 29.96 dB PSNR-mu. It learnt to re-tone
  every reference, which it cannot tell from a true one; hours of CPU buy the known response (what
  ``--crf`` gives) or that robustness, not both. The validation's ``curves`` group measures the cost.
- **Video ITM clips** (the ``temporal`` model, :func:`video_itm_batch`, video ITM supplementary §2-3):
  a short clip along a random camera path with a moving foreground (:data:`STILL_CLIPS` of them from a
  tripod instead) over a random region of a training scene (flipped / rotated before rendering, so
  that the known warps stay exact), graded as the
  patches are (one anchor for the clip: the HDR of a static scene does not change), the SDR made with
  one random recipe of the patches' family for the whole clip from the scene exposed per frame as the
  simulated auto-exposure camera exposes it (Eq. 1-3, its change over the clip) plus the
  supplementary's draw: the current (last) frame at a high exposure, the others at random ones; with
  each frame's PQ target and the warps between consecutive frames.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from hdrconv.color import crf
from hdrconv.color.transfer import eotf_inverse_ST2084
from hdrconv.data.family import TONE_MAPPERS
from hdrconv.data.grading import expose, grade_HDR10, random_exposure_stops
from hdrconv.data.scenes import Scene
from hdrconv.data.synthesis import H264_CRF_RANGE, H264_PROBABILITY, h264_roundtrip, random_recipe, synthesize_SDR
from hdrconv.data.video import alternating_exposure, auto_exposure_times, render_clip
from hdrconv.errors import InputDataError
from hdrconv.models.alignment import align_to
from hdrconv.train.config import TrainConfig
from hdrconv.train.losses import coarse_to_fine_loss, video_itm_loss


def _augment(x: torch.Tensor, rng: np.random.Generator) -> torch.Tensor:
    if rng.random() < 0.5:
        x = x.flip(-1)
    if rng.random() < 0.5:
        x = x.flip(-2)
    return torch.rot90(x, int(rng.integers(4)), dims=(-2, -1))


def itm_sample(scene: Scene, rng: np.random.Generator, patch: int,
               tone_mappers: tuple[str, ...] = TONE_MAPPERS) -> tuple[torch.Tensor, torch.Tensor]:
    """One training pair from a random ``patch`` x ``patch`` crop of ``scene``, its SDR made by one of
    ``tone_mappers``: (SDR BT.709 R'G'B', HDR10 PQ BT.2020 R'G'B'), both ``(3, patch, patch)`` in [0, 1]."""
    _, H, W = scene.image.shape
    if min(H, W) < patch:
        raise InputDataError(f"{scene.name}: {W}x{H} is smaller than the {patch}-pixel training patch")
    y, x = int(rng.integers(H - patch + 1)), int(rng.integers(W - patch + 1))
    crop = _augment(scene.image[:, y:y + patch, x:x + patch], rng)
    stops = random_exposure_stops(rng)
    relative = expose(crop, scene.key, stops)
    nits = grade_HDR10(relative, scene.source_peak(stops))
    sdr = synthesize_SDR(relative, nits, random_recipe(rng, tone_mappers))
    return sdr, eotf_inverse_ST2084(nits)


def itm_batch(scenes: list[Scene], rng: np.random.Generator, batch: int, patch: int,
              tone_mappers: tuple[str, ...] = TONE_MAPPERS) -> tuple[torch.Tensor, torch.Tensor]:
    """``batch`` training pairs from scenes drawn uniformly: ``(batch, 3, patch, patch)`` each."""
    pairs = [itm_sample(scenes[int(rng.integers(len(scenes)))], rng, patch, tone_mappers) for _ in range(batch)]
    return torch.stack([p[0] for p in pairs]), torch.stack([p[1] for p in pairs])


def patch_batch(scenes: list[Scene], rng: np.random.Generator, config: TrainConfig, model: type | None = None
                ) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`itm_batch` with the batch size, patch size and tone mappers of ``config`` (for any ITM
    ``model``)."""
    return itm_batch(scenes, rng, config.batch_size, config.patch, config.tone_mappers)


CLIP_REGION = 2
"""A clip's camera moves over a random region of at most this many patch sizes across: over the whole
1024-pixel scene a 96-pixel clip would be the image shrunk up to 8 times (the trajectory's zoom reaches
0.8 of the image / crop ratio), over the region it keeps about the scene's own scale."""


ALT_EXP_CAMERAS = ("gamma:2.2", "bt709", "srgb")
"""Camera responses of the training clips (``--crf`` names, :mod:`hdrconv.color.crf`), drawn uniformly:
each clip is recorded through one and read back through it, as ``hdrconv alt-exp`` reads a tagged file,
so that the network sees each response's 8-bit steps in the gamma-2.2 domain."""

FULL_WELL_RANGE = (1000.0, 20000.0)
"""Log-uniform range of the electrons a pixel holds at its clipping level
(:func:`hdrconv.data.video.alternating_exposure`'s shot noise): a small phone sensor to a large one."""

CAPTURES = ("realistic", "clean")
"""How the alternating-exposure training clips are captured (``hdrconv train --capture``): ``realistic``
through :data:`ALT_EXP_CAMERAS`, with shot noise and H.264 as footage is shot; ``clean`` through gamma 2.2
with read noise alone and no compression, the data ``c2f-2exp``'s shipped weights were trained on (its
model card), kept to reproduce them and to tell what the capture changes from what the steps change."""

STILL_CLIPS = 0.25
"""Fraction of alternating-exposure and video ITM clips shot from a tripod (no camera motion, no
foreground), where the answer cannot depend on the frame's exposure nor on how long the shot has run.
Trained on moving clips alone, ``c2f-2exp``'s RefineNet put the clipped regions of an EV+2 reference
3 % above the same regions of an EV-2 one (CoarseNet: 0.1 %), and its output alternated by 2.28 % on
the static test clip; ``temporal``'s output crept by 0.4-0.7 stops over 40 repeats of one frame
(:mod:`hdrconv.models.temporal_arch`)."""


def alt_exp_sample(scene: Scene, rng: np.random.Generator, patch: int, exposures: int, capture: str = "realistic"
                   ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One training clip of ``2 exposures + 1`` frames (module docstring), captured as ``capture`` says
    (:data:`CAPTURES`): LDR frames ``(T, 3, patch, patch)`` in [0, 1], their exposures in stops ``(T,)``
    and the centre frame's radiance ``(3, patch, patch)``."""
    _, H, W = scene.image.shape
    if min(H, W) < patch:
        raise InputDataError(f"{scene.name}: {W}x{H} is smaller than the {patch}-pixel training patch")
    rh, rw = min(H, CLIP_REGION * patch), min(W, CLIP_REGION * patch)
    y, x = int(rng.integers(H - rh + 1)), int(rng.integers(W - rw + 1))
    frames = 2 * exposures + 1
    phase = int(rng.integers(exposures))
    still = rng.random() < STILL_CLIPS
    try:
        clip = render_clip(scene.image[:, y:y + rh, x:x + rw], rng, frames + exposures - 1, (patch, patch),
                           foreground=not still, motion=0.0 if still else 1.0)
    except ValueError as e:  # no camera path fits a scene barely larger than the patch
        raise InputDataError(f"{scene.name}: {e}") from None
    relative = expose(_augment(clip.frames, rng), scene.key, random_exposure_stops(rng))
    clean = capture == "clean"
    camera = crf.parse("gamma:2.2" if clean else ALT_EXP_CAMERAS[int(rng.integers(len(ALT_EXP_CAMERAS)))])
    full_well = None if clean else float(np.exp(rng.uniform(*np.log(FULL_WELL_RANGE))))
    taken = alternating_exposure(relative, rng, exposures, crf=camera.to_signal, full_well=full_well)
    codes = taken.ldr
    if not clean and rng.random() < H264_PROBABILITY:
        codes = h264_roundtrip(codes, int(rng.integers(H264_CRF_RANGE[0], H264_CRF_RANGE[1] + 1)))
    # what hdrconv alt-exp's stage makes of the camera's file
    signal = camera.to_alt_exp_signal(codes[phase:phase + frames].float())
    ev = taken.ev[phase:phase + frames]
    ldr = torch.stack(align_to(list(signal), ev.tolist(), frames // 2))
    return ldr, torch.from_numpy(ev).float(), relative[phase + frames // 2]


def alt_exp_batch(scenes: list[Scene], rng: np.random.Generator, config: TrainConfig, model: type
                  ) -> tuple[tuple[torch.Tensor, torch.Tensor], torch.Tensor]:
    """``config.batch_size`` clips of :func:`alt_exp_sample` for ``model`` (its ``exposures``), from
    scenes drawn uniformly: ((LDR ``(N, T, 3, p, p)``, stops ``(N, T)``), radiance ``(N, 3, p, p)``)."""
    clips = [alt_exp_sample(scenes[int(rng.integers(len(scenes)))], rng, config.patch, model.exposures,
                            config.capture)
             for _ in range(config.batch_size)]
    return (torch.stack([c[0] for c in clips]), torch.stack([c[1] for c in clips])), torch.stack([c[2] for c in clips])


VIDEO_FRAMES = 4
"""Frames of a video ITM training clip: the recurrent network is unrolled, with gradients, over all of
them. Four lets the current frame's clipped highlight be seen up to three frames earlier (issue 14's
t - 3 check) at four times a single frame's step cost."""

CURRENT_EXPOSURE_STOPS = (0.5, 1.5)
"""The current (last) frame's exposure above the auto-exposure's, stops: the supplementary's "high
exposure duration T for the current frame", clipping highlights that earlier frames may show."""

OTHER_EXPOSURE_STOPS = (-1.5, 0.5)
"""The other frames' random exposures around the auto-exposure's, stops: mostly darker than the
current frame, sometimes brighter."""


def _crop_region(scene: Scene, rng: np.random.Generator, patch: int) -> torch.Tensor:
    """A random region of ``scene`` at most :data:`CLIP_REGION` patches across for a clip's camera."""
    _, H, W = scene.image.shape
    if min(H, W) < patch:
        raise InputDataError(f"{scene.name}: {W}x{H} is smaller than the {patch}-pixel training patch")
    rh, rw = min(H, CLIP_REGION * patch), min(W, CLIP_REGION * patch)
    y, x = int(rng.integers(H - rh + 1)), int(rng.integers(W - rw + 1))
    return scene.image[:, y:y + rh, x:x + rw]


def video_itm_sample(scene: Scene, rng: np.random.Generator, patch: int, frames: int = VIDEO_FRAMES,
                     tone_mappers: tuple[str, ...] = TONE_MAPPERS
                     ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """One training clip (module docstring): SDR BT.709 R'G'B' ``(T, 3, patch, patch)``, HDR10 PQ
    BT.2020 R'G'B' of the same shape, and the warps between consecutive frames (``coords``
    ``(T - 1, patch, patch, 2)``, ``valid`` ``(T - 1, patch, patch)``, as :class:`hdrconv.data.video.Clip`)."""
    region = _augment(_crop_region(scene, rng, patch), rng)
    still = rng.random() < STILL_CLIPS
    try:
        clip = render_clip(region, rng, frames, (patch, patch), foreground=not still, motion=0.0 if still else 1.0)
    except ValueError as e:  # no camera path fits a scene barely larger than the patch
        raise InputDataError(f"{scene.name}: {e}") from None
    stops = random_exposure_stops(rng)
    relative = expose(clip.frames, scene.key, stops)
    nits = grade_HDR10(relative, scene.source_peak(stops))
    camera = np.log2(auto_exposure_times(relative))
    extra = np.append(rng.uniform(*OTHER_EXPOSURE_STOPS, frames - 1), rng.uniform(*CURRENT_EXPOSURE_STOPS))
    # the camera's exposure changes as it follows the content; the grade's anchor stays the scene's
    offsets = camera - camera.mean() + extra
    exposed = relative * torch.from_numpy(2.0**offsets).to(relative.dtype).view(-1, 1, 1, 1)
    exposed_nits = torch.stack([grade_HDR10(f, scene.source_peak(stops + o)) for f, o in zip(exposed, offsets)])
    sdr = synthesize_SDR(exposed, exposed_nits, random_recipe(rng, tone_mappers))
    return sdr, eotf_inverse_ST2084(nits), clip.coords, clip.valid


def video_itm_batch(scenes: list[Scene], rng: np.random.Generator, config: TrainConfig, model: type | None = None
                    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """``config.batch_size`` clips of :func:`video_itm_sample` from scenes drawn uniformly: SDR
    ``(N, T, 3, p, p)``, (PQ targets ``(N, T, 3, p, p)``, coords ``(N, T - 1, p, p, 2)``, valid
    ``(N, T - 1, p, p)``)."""
    clips = [video_itm_sample(scenes[int(rng.integers(len(scenes)))], rng, config.patch,
                              tone_mappers=config.tone_mappers) for _ in range(config.batch_size)]
    sdr, pq, coords, valid = (torch.stack(parts) for parts in zip(*clips))
    return sdr, (pq, coords, valid)


@dataclass(frozen=True)
class Sampler:
    """How batches are drawn for one task, and for which models they are made."""

    draw: Callable[[list[Scene], np.random.Generator, TrainConfig, type], tuple[Any, torch.Tensor]]
    """(training scenes, data generator, configuration, model class) -> (network input, target) batch;
    the input is a tensor or a tuple of the network's arguments. All its randomness from the generator,
    so that a resumed run continues the same sample stream."""
    what: str
    """What a batch holds, for messages."""
    window: int = 1
    """Target frames per sample (the model's ``window``)."""
    scale: int = 1
    """Output to input size ratio of the samples (the model's ``scale``)."""
    objective: Callable[[Any, torch.Tensor, Callable], torch.Tensor] | None = None
    """(network output, target, the loss of ``--loss``) -> the loss to minimise, for a network whose
    training output is more than one tensor; None: the ``--loss`` of output and target."""
    metric: str = "psnr_pq"
    """The validation metric the training log reports."""
    domain: str = "BT.709 R'G'B' [0,1] -> PQ BT.2020 R'G'B' [0,1]"
    """The network's input and output, for the model card."""


SAMPLERS: dict[str, Sampler] = {
    "itm": Sampler(patch_batch, "single-frame patches"),
    "alt-exp": Sampler(alt_exp_batch, "alternating-exposure clips", objective=coarse_to_fine_loss,
                       metric="psnr_mu", domain="gamma-2.2 LDR frames [0,1] and their stops -> BT.709 "
                                                "radiance (1.0: the EV 0 clipping level)"),
}
"""The sampler of each task ``hdrconv train`` trains."""

MODEL_SAMPLERS: dict[str, Sampler] = {
    "temporal": Sampler(video_itm_batch, "video ITM clips", objective=video_itm_loss,
                        domain="sequences of BT.709 R'G'B' [0,1] -> PQ BT.2020 R'G'B' [0,1], recurrent"),
}
"""Samplers of models that need other data than their task's (by model name): the recurrent video ITM
model trains on clips with known warps (window 1: each frame of a clip is the target of its own
recurrent step)."""


def sampler_for(model: type) -> Sampler | None:
    """The sampler a model class trains with: its own (:data:`MODEL_SAMPLERS`) or its task's."""
    return MODEL_SAMPLERS.get(model.name, SAMPLERS.get(model.task))
