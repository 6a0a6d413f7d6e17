"""Exposure stabilisation (hdrconv/models/exposure.py): measuring an exposure change, integrating it,
the gain that undoes it, and the models that use it holding a shot steady."""

import pytest
import torch
import torch.nn.functional as F

from hdrconv.models.cuts import is_scene_cut
from hdrconv.models.blocks import soft_histogram
from hdrconv.models.exposure import (EXPOSURE_KNEE, EXPOSURE_LIMIT_STOPS, apply_exposure, exposure_change,
                                     exposure_gain_table, stabilise_exposure)
from hdrconv.models.fast_arch import FastITMNet
from hdrconv.models.learned import AnchoredITMModel, FastITMModel


def scene(h=48, w=64, seed=0):
    """A smooth random scene in linear light, 0.03 to 0.33: a camera signal below the compensation's knee
    even 0.6 stops up."""
    g = torch.Generator().manual_seed(seed)
    base = F.interpolate(torch.rand(1, 3, h // 8, w // 8, generator=g), size=(h, w), mode="bilinear")
    return 0.03 + 0.3 * base


def camera(linear, stops):
    """BT.1886 camera signal of ``linear`` light exposed ``stops`` up, clipped, 8-bit."""
    return ((linear * 2.0**stops).clamp(0, 1) ** (1 / 2.4) * 255).round() / 255


def test_exposure_change_is_measured_in_stops_despite_motion():
    net = FastITMNet(downscale=2)
    light = scene(96, 128)
    before = net.thumbnail(camera(light, 0.0))[:, 3:]
    moved = torch.roll(light, shifts=(1, 2), dims=(2, 3))  # the camera pans while it re-exposes
    after = net.thumbnail(camera(moved, 0.4))[:, 3:]
    assert exposure_change(before, after) == pytest.approx(0.4, abs=0.05)
    assert exposure_change(before, before) == 0.0
    # a black frame tells nothing
    assert exposure_change(before, torch.zeros_like(before)) == 0.0
    # another scene with the same brightness: a cut, not an exposure change
    other = net.thumbnail(camera(scene(96, 128, seed=1), 0.0))[:, 3:]
    assert exposure_change(before, other) is None


def test_stabilisation_integrates_changes_within_limit_and_leaks():
    assert stabilise_exposure(0.0, 0.3, leak=0.99) == pytest.approx(-0.3)
    assert stabilise_exposure(-0.3, 0.3, leak=0.99) == pytest.approx(-0.597)
    assert stabilise_exposure(-0.9, 0.5) == -EXPOSURE_LIMIT_STOPS
    assert stabilise_exposure(0.5, 0.0, leak=0.5) == pytest.approx(0.25)


def test_exposure_gain_moves_midtones_by_the_stops_and_leaves_clipping_alone():
    table = exposure_gain_table(-1.0, 1024)
    x = torch.linspace(0, 1, 101).view(1, 1, 1, 101).expand(1, 3, 1, 101).contiguous()
    out = apply_exposure(x, table)
    mid = x[..., 10:60]
    torch.testing.assert_close(out[..., 10:60] ** 2.4, mid ** 2.4 / 2, atol=2e-3, rtol=1e-2)
    assert out[..., -1].eq(1).all()
    assert (torch.diff(out[0, 0, 0]) >= 0).all()  # still a monotonic mapping
    assert (out[..., 81:-1] > x[..., 81:-1] * 2 ** (-1 / 2.4)).all()  # faded out above the knee
    assert EXPOSURE_KNEE == pytest.approx(0.8)


def mean_nits(model, frames):
    out, _ = model.process(frames, None)
    return out.mean(dim=(1, 2, 3))


@pytest.mark.parametrize("model_class", [FastITMModel, AnchoredITMModel])
def test_shipped_model_holds_a_shot_steady_through_the_camera_s_auto_exposure(model_class):
    # the camera opens up by 0.6 stops over half a second: the scene did not change, so the HDR should not
    model = model_class()
    light = scene()
    stops = torch.cat([torch.zeros(4), torch.linspace(0, 0.6, 12), torch.full((8,), 0.6)])
    clip = torch.cat([camera(light, float(s)) for s in stops])
    video, _ = model.process(clip, None)
    frame_by_frame = torch.cat([model.process(f[None], None)[0] for f in clip])
    drift = lambda out: (out[-1] / out[0]).log2().abs().mean().item()  # stops, per pixel
    assert drift(frame_by_frame) > 0.3
    assert drift(video) < 0.3 * drift(frame_by_frame)


def test_a_cut_between_shots_of_alike_brightness_resets_the_exposure_compensation():
    model = FastITMModel()
    _, state = model.process(torch.cat([camera(scene(seed=0), s) for s in (0.0, 0.0, 0.1, 0.2, 0.3)]), None)
    assert state.exposure.stops < -0.2
    other = camera(scene(seed=1), 0.3)
    assert not is_scene_cut(soft_histogram(model.net.thumbnail(other)[:, 3:], model.net.bins), state.hist)
    _, state = model.process(other, state)
    assert state.exposure.stops == 0.0


def test_shipped_model_ends_a_fade_from_black_at_the_shot_s_own_brightness():
    model = FastITMModel()
    light = scene()
    ramp = torch.cat([torch.zeros(2), torch.linspace(0, 1, 25)[1:], torch.ones(4)])
    clip = torch.cat([camera(light * float(r), 0.0) for r in ramp])
    level = mean_nits(model, clip)
    steady = mean_nits(model, camera(light, 0.0))[0]
    assert level[-1].item() == pytest.approx(steady.item(), rel=0.02)
