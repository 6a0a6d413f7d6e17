"""The evaluation protocol: in-family samples and held-out samples that no training draw can produce.

Why: the in-family validation (:func:`hdrconv.data.scenes.itm_validation_samples`) shares the
training's grade, exposure anchor and SDR recipes; both learned models beat the analytic operators
there by 2.5-4.4 dB PSNR-PQ and lost to BT.2446 Method A by 1-5.5 dB on real content they had never
seen. A figure that decides anything (the default, a design choice) must come from conditions the
model never trained on, so every sample here is made under a :class:`Condition` of one of four
groups:

- ``in-family``: the validation recipes as before (each training tone mapper of the first six once,
  training grade, key at the anchor): the figure model cards always had;
- ``exposure``: (a) SDR *and* HDR with the scene key placed 2 stops below or above the anchor
  (training places it within +-:data:`~hdrconv.data.grading.EXPOSURE_JITTER_STOPS`): high- and
  low-key footage, with a camera, a filmic and a logarithmic rendering; (b) the SDR alone exposed 1
  and 2 stops below and above the grade (training draws the SDR exposure of the scene-referred curves
  within +-:data:`~hdrconv.data.synthesis.SDR_EXPOSURE_STOPS` of the grade): a camera or grader that
  placed the SDR brighter or darker than the HDR master, with a filmic and a logarithmic rendering;
- ``curves``: SDR from tone mappers training never draws (:data:`~hdrconv.data.family.
  HELD_OUT_TONE_MAPPERS`: ACES filmic, FFmpeg's reinhard) and from family members with parameters
  outside their training ranges (a Reinhard white below, a sigmoid contrast above, a camera knee
  lower and softer, a Drago bias below and an EETF SDR white above their ranges;
  ``tests/data/test_protocol.py`` checks each against the training ranges of
  :mod:`hdrconv.data.synthesis`);
- ``grading``: HDR ground truth from conventions other than the training's one
  (:data:`~hdrconv.data.grading.TRAINING_GRADE`: BT.2100 PQ reference OOTF with middle grey at
  26 cd/m2, BT.2390 roll-off on max(R, G, B) to 1000 cd/m2): middle grey at 17 and at 40 cd/m2,
  highlights expanded to 4000 cd/m2, the roll-off per channel, and the scene-referred rendering (no
  system gamma: reference white at 203 cd/m2, the training grade of the models before this one); SDR
  from a camera, a filmic and a logarithmic rendering of the same scene.

The alternating-exposure clips (:func:`alt_exp_conditions`) use the groups that apply to a camera:
``in-family`` is the coarse-to-fine paper's test protocol (§5.2: the known CRF, gamma 2.2 here, key at
the anchor); ``exposure`` places the scene key 2 stops below or above it; ``curves`` gives the clip a
camera response other than the one the model is told: the BT.709 OETF of an untagged file (read as
gamma 2.2) and a gamma 2.2 exp(-+0.35) over the whole clip (training keeps the true response). Their
ground truth is the scene graded as
``hdrconv alt-exp`` grades its output (:func:`hdrconv.data.grading.alt_exp_HDR10`).

Samples are named ``IMAGE/GROUP/CONDITION`` and carry their group; :mod:`hdrconv.data.validation`
reports the means per group and per condition. Everything is deterministic (no compression, no
random parameters), so numbers are comparable between runs, models and machines.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import torch

from hdrconv.color.conventions import ALT_EXP_GAMMA
from hdrconv.color.transfer import oetf_BT709
from hdrconv.data.grading import TRAINING_GRADE, Grade, expose, grade_HDR10
from hdrconv.data.synthesis import SDRRecipe, evaluation_recipes, synthesize_SDR

GROUPS = ("in-family", "exposure", "curves", "grading")
"""The sample groups, in-family first; the others are the held-out groups."""

HELD_OUT_GROUPS = GROUPS[1:]

HELD_OUT_KEY_STOPS = (-2.0, 2.0)
"""Scene-key placements of the ``exposure`` group, stops from the anchor (SDR and HDR alike)."""

HELD_OUT_SDR_STOPS = (-2.0, -1.0, 1.0, 2.0)
"""SDR exposures of the ``exposure`` group, stops from the HDR grade (the SDR alone)."""


@dataclass(frozen=True)
class Condition:
    """How one sample of a scene is made: its group, a name, the SDR recipe, where the scene key is
    placed (stops from the grading anchor, SDR and HDR alike) and the grading convention."""

    group: str
    name: str
    recipe: SDRRecipe
    key_stops: float = 0.0
    grade: Grade = TRAINING_GRADE


def _renderings() -> dict[str, SDRRecipe]:
    """A camera, a filmic and a logarithmic rendering (the kinds of SDR of the independent check that
    found the in-family figures misleading). None of them is derived from the HDR grade by an analytic
    operator's own forward transform: SDR made by BT.2446 Method A's forward conversion would favour
    its inverse, the ``bt2446a`` model (35.2 dB on such SDR in the exposure group, against 25.5 for
    ``bt2408``)."""
    recipes = {r.tone_mapper: r for r in evaluation_recipes()}
    return {"camera": recipes["camera"], "hable": recipes["hable"],
            "drago": SDRRecipe("drago", per_channel=False, saturation=0.8)}


def held_out_conditions() -> list[Condition]:
    """The conditions of the three held-out groups."""
    renderings = _renderings()
    exposure = [Condition("exposure", f"key{stops:+g}/{t}", r, key_stops=stops)
                for stops in HELD_OUT_KEY_STOPS for t, r in renderings.items()]
    exposure += [Condition("exposure", f"sdr{stops:+g}/{t}", replace(renderings[t], exposure_stops=stops))
                 for stops in HELD_OUT_SDR_STOPS for t in ("hable", "drago")]
    curves = [
        Condition("curves", "aces", SDRRecipe("aces")),
        Condition("curves", "ffmpeg-reinhard", SDRRecipe("ffmpeg-reinhard")),
        Condition("curves", "reinhard-white1.25", SDRRecipe("reinhard", reinhard_white=1.25, per_channel=False,
                                                             saturation=0.8)),
        Condition("curves", "sigmoid-contrast2.2", SDRRecipe("sigmoid", sigmoid_contrast=2.2, per_channel=False,
                                                              saturation=0.8)),
        Condition("curves", "camera-knee0.7-white10", SDRRecipe("camera", knee_point=0.7, knee_white=10.0)),
        Condition("curves", "drago-bias0.55", SDRRecipe("drago", drago_bias=0.55, per_channel=False, saturation=0.8)),
        Condition("curves", "eetf-white300", SDRRecipe("eetf", sdr_white=300.0, per_channel=False)),
    ]
    grades = {"grey17": Grade(middle_grey_nits=17.0), "grey40": Grade(middle_grey_nits=40.0),
              "peak4000": Grade(peak_nits=4000.0), "per-channel": Grade(roll_off="per-channel"),
              "scene-referred": Grade(rendering="scene")}
    grading = [Condition("grading", f"{g}/{t}", r, grade=grade)
               for g, grade in grades.items() for t, r in renderings.items()]
    return exposure + curves + grading


def in_family_conditions() -> list[Condition]:
    """The in-family validation: each evaluation recipe under the training grade."""
    return [Condition("in-family", r.tone_mapper, r) for r in evaluation_recipes()]


def conditions(groups: tuple[str, ...] = GROUPS) -> list[Condition]:
    """Every condition of ``groups``."""
    unknown = set(groups) - set(GROUPS)
    if unknown:
        raise ValueError(f"unknown sample groups {sorted(unknown)} (known: {', '.join(GROUPS)})")
    return [c for c in in_family_conditions() + held_out_conditions() if c.group in groups]


def make_sample(scene, condition: Condition):
    """The SDR input (``(1, 3, h, w)``, 8-bit BT.709 R'G'B') and HDR10 ground truth (linear BT.2020
    cd/m2) of ``scene`` (a :class:`hdrconv.data.scenes.Scene`) under ``condition``.

    The SDR side sees the scene exposed with the key at ``key_stops``; the HDR side at ``key_stops``
    plus the grade's own offset of middle grey, rolled off to the grade's peak.
    """
    sdr_relative = expose(scene.image, scene.key, condition.key_stops)
    nits = ground_truth(scene, scene.image, condition.key_stops, condition.grade)
    return synthesize_SDR(sdr_relative, nits, condition.recipe)[None], nits[None]


def ground_truth(scene, light: torch.Tensor, key_stops: float, grade: Grade) -> torch.Tensor:
    """The HDR10 ground truth (linear BT.2020 cd/m2) of ``light``, scene-linear pixels of ``scene``
    (its image, or frames rendered from it), with the key at ``key_stops`` plus the grade's own
    offset of middle grey, rolled off to the grade's peak."""
    stops = key_stops + grade.stops
    return grade_HDR10(expose(light, scene.key, stops), scene.source_peak(stops), grade)


@dataclass(frozen=True)
class AltExpCondition:
    """How one alternating-exposure clip of a scene is taken: its group, a name, where the scene key is
    placed (stops from the grading anchor) and the camera response (linear -> signal; ``None``: the
    gamma 2.2 the model is told)."""

    group: str
    name: str
    key_stops: float = 0.0
    crf: Callable[[torch.Tensor], torch.Tensor] | None = None


def _gamma_crf(d: float) -> Callable[[torch.Tensor], torch.Tensor]:
    return lambda linear: linear ** (math.exp(d) / ALT_EXP_GAMMA)


ALT_EXP_CRF_ERRORS = (-0.35, 0.35)
"""d of the ``curves`` group's whole-clip gamma error, gamma 2.2 exp(-d): half the range of the paper's
CRF augmentation (§5.1), 1.55 and 3.12."""


def alt_exp_conditions() -> list[AltExpCondition]:
    """The conditions of the alternating-exposure clips (module docstring)."""
    return ([AltExpCondition("in-family", "gamma2.2")]
            + [AltExpCondition("exposure", f"key{stops:+g}", key_stops=stops) for stops in HELD_OUT_KEY_STOPS]
            + [AltExpCondition("curves", "bt709-read-as-gamma2.2", crf=oetf_BT709)]
            + [AltExpCondition("curves", f"gamma-d{d:+g}", crf=_gamma_crf(d)) for d in ALT_EXP_CRF_ERRORS])
