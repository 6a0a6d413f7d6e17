"""The evaluation protocol: every held-out group is really out of reach of the training draws."""

import numpy as np
import pytest
import torch

import hdrconv.train.samplers as samplers
from hdrconv.data import protocol, synthesis
from hdrconv.data.family import HELD_OUT_TONE_MAPPERS, TONE_MAPPERS
from hdrconv.data.grading import EXPOSURE_JITTER_STOPS, TRAINING_GRADE, expose, grade_HDR10
from hdrconv.data.scenes import Scene, itm_validation_samples
from tests.hdr_data import hdr_scene

# each parameterised member of the family: the recipe field drawn and its training range
TRAINING_RANGES = {
    "reinhard": ("reinhard_white", synthesis.REINHARD_WHITE_RANGE),
    "sigmoid": ("sigmoid_contrast", synthesis.SIGMOID_CONTRAST_RANGE),
    "camera": ("knee_point", synthesis.KNEE_POINT_RANGE),
    "drago": ("drago_bias", synthesis.DRAGO_BIAS_RANGE),
    "eetf": ("sdr_white", synthesis.SDR_WHITE_RANGE),
}


def _scene():
    return Scene.from_image("s", torch.from_numpy(hdr_scene(0, 32, 48)).permute(2, 0, 1).contiguous())


def _training_draws(monkeypatch, n=300):
    """Record what the patch sampler grades and renders for ``n`` training patches."""
    graded, recipes = [], []
    real_grade, real_sdr = samplers.grade_HDR10, samplers.synthesize_SDR
    monkeypatch.setattr(samplers, "grade_HDR10", lambda rel, peak_src, *a, **k: graded.append((a, k))
                        or real_grade(rel, peak_src, *a, **k))
    monkeypatch.setattr(samplers, "synthesize_SDR", lambda rel, nits, r: recipes.append(r) or real_sdr(rel, nits, r))
    stops = []
    real_expose = samplers.expose
    monkeypatch.setattr(samplers, "expose", lambda crop, key, s: stops.append(s) or real_expose(crop, key, s))
    scene, rng = _scene(), np.random.default_rng(3)
    for _ in range(n):
        samplers.itm_sample(scene, rng, 16)
    return stops, graded, recipes


def test_groups_and_names():
    conds = protocol.conditions()
    assert [g for g in protocol.GROUPS if any(c.group == g for c in conds)] == list(protocol.GROUPS)
    assert len({(c.group, c.name) for c in conds}) == len(conds)
    assert [c.recipe for c in protocol.conditions(("in-family",))] == synthesis.evaluation_recipes()
    with pytest.raises(ValueError):
        protocol.conditions(("nope",))


def test_exposure_group_is_beyond_every_training_key_placement(monkeypatch):
    stops, _, recipes = _training_draws(monkeypatch)
    # where training puts the SDR scene key: grading anchor offset plus the recipe's own SDR exposure
    placed = [s + (r.exposure_stops if r.tone_mapper not in ("bt2446a", "bt2446c", "eetf") else 0)
              for s, r in zip(stops, recipes)]
    assert max(abs(s) for s in stops) <= EXPOSURE_JITTER_STOPS
    limit = EXPOSURE_JITTER_STOPS + synthesis.SDR_EXPOSURE_STOPS
    assert max(abs(p) for p in placed) <= limit
    sdr_only = [r.exposure_stops for r in recipes if r.tone_mapper not in ("bt2446a", "bt2446c", "eetf")]
    assert max(abs(s) for s in sdr_only) <= synthesis.SDR_EXPOSURE_STOPS
    for c in protocol.conditions(("exposure",)):
        assert c.grade == TRAINING_GRADE
        # either the whole scene is placed beyond training's reach, or the SDR alone is
        assert abs(c.key_stops + c.recipe.exposure_stops) > limit or abs(c.recipe.exposure_stops) > synthesis.SDR_EXPOSURE_STOPS
        assert c.recipe.tone_mapper in ("camera", "hable", "drago")  # renderings that take an exposure


def test_curves_group_is_never_drawn_in_training(monkeypatch):
    rng = np.random.default_rng(0)
    drawn = [synthesis.random_recipe(rng) for _ in range(5000)]
    assert {r.tone_mapper for r in drawn} == set(TONE_MAPPERS)
    for field, (lo, hi) in TRAINING_RANGES.values():
        values = [getattr(r, field) for r in drawn]
        assert lo <= min(values) and max(values) <= hi
    with pytest.raises(ValueError, match="held-out"):
        synthesis.random_recipe(rng, ("hable", "aces"))
    for c in protocol.conditions(("curves",)):
        t = c.recipe.tone_mapper
        if t in HELD_OUT_TONE_MAPPERS:
            continue
        field, (lo, hi) = TRAINING_RANGES[t]
        assert not lo <= getattr(c.recipe, field) <= hi, c.name
    # and the patch sampler draws only the training family
    _, _, recipes = _training_draws(monkeypatch, 200)
    assert not {r.tone_mapper for r in recipes} & set(HELD_OUT_TONE_MAPPERS)


def test_grading_group_uses_conventions_training_never_grades_with(monkeypatch):
    _, graded, _ = _training_draws(monkeypatch, 50)
    assert all(a == () and k == {} for a, k in graded)  # the defaults: TRAINING_GRADE's peak and roll-off
    assert (TRAINING_GRADE.peak_nits, TRAINING_GRADE.roll_off) == (1000.0, "max-rgb")
    grades = {c.grade for c in protocol.conditions(("grading",))}
    assert TRAINING_GRADE not in grades and len(grades) == 5
    assert {g.rendering for g in grades} == {"display", "scene"} and TRAINING_GRADE.rendering == "display"
    assert all(c.key_stops == 0 for c in protocol.conditions(("grading",)))


def test_samples_follow_their_condition():
    scene = _scene()
    inf = {c.name: c for c in protocol.conditions(("in-family",))}
    sdr, hdr = protocol.make_sample(scene, inf["hable"])
    relative = expose(scene.image, scene.key)
    nits = grade_HDR10(relative, scene.source_peak(0.0))
    assert torch.equal(hdr[0], nits)
    assert torch.equal(sdr[0], synthesis.synthesize_SDR(relative, nits, inf["hable"].recipe))
    by_name = {c.name: c for c in protocol.held_out_conditions()}
    _, dark = protocol.make_sample(scene, by_name["grey17/camera"])
    _, bright = protocol.make_sample(scene, by_name["grey40/camera"])
    assert float(bright.median()) > 2 * float(dark.median())
    _, hdr4000 = protocol.make_sample(scene, by_name["peak4000/camera"])
    assert float(hdr4000.amax()) > 1000 >= float(hdr.amax()) - 1e-3
    sdr_lo, _ = protocol.make_sample(scene, by_name["key-2/hable"])
    sdr_hi, _ = protocol.make_sample(scene, by_name["key+2/hable"])
    assert float(sdr_lo.mean()) < float(sdr[0].mean()) < float(sdr_hi.mean())
    sdr_bright, hdr_same = protocol.make_sample(scene, by_name["sdr+2/hable"])
    assert torch.equal(hdr_same, hdr) and float(sdr_bright.mean()) > float(sdr[0].mean())
    samples = itm_validation_samples([scene])
    assert len(samples) == len(protocol.conditions())
    assert {s.group for s in samples} == set(protocol.GROUPS)


def test_alternating_exposure_held_out_conditions_are_outside_the_training_draws():
    from hdrconv.color.conventions import ALT_EXP_GAMMA

    conds = protocol.alt_exp_conditions()
    assert [c.group for c in conds if c.group == "in-family"] == ["in-family"]
    assert all(c.crf is None and c.key_stops == 0 for c in conds if c.group == "in-family")
    exposure = [c for c in conds if c.group == "exposure"]
    assert exposure and all(abs(c.key_stops) > EXPOSURE_JITTER_STOPS and c.crf is None for c in exposure)
    # training's clips all have the gamma 2.2 response: each curves condition gives the clip another one
    ramp = torch.linspace(0.01, 1, 100)
    curves = [c for c in conds if c.group == "curves"]
    assert len(curves) == 3
    assert all(float((c.crf(ramp) - ramp ** (1 / ALT_EXP_GAMMA)).abs().max()) > 0.05 for c in curves)
