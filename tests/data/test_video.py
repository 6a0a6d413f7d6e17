import numpy as np
import pytest
import torch

from hdrconv.data.metrics import warp_backward, warping_error
from hdrconv.data.grading import expose, grade_HDR10
from hdrconv.color.transfer import oetf_BT709
from hdrconv.data.video import (AUTO_EXPOSURE_BAND, alternating_exposure, auto_exposure, exposure_values,
                                 frame_luminance, random_trajectory, render_clip,
                                 search_exposure)


def _ramp(h=96, w=128):
    # bilinear interpolation of a linear function is exact: any resampling error is a wrong warp
    ys, xs = torch.meshgrid(torch.arange(h, dtype=torch.float64), torch.arange(w, dtype=torch.float64),
                            indexing="ij")
    return torch.stack([1 + xs, 1 + ys, 1 + 0.5 * xs + 0.25 * ys])


def _smooth_scene(h=96, w=128, seed=0):
    g = torch.Generator().manual_seed(seed)
    low = torch.randn(1, 3, 6, 8, generator=g, dtype=torch.float64)
    return torch.exp(2 * torch.nn.functional.interpolate(low, size=(h, w), mode="bicubic", align_corners=True))[0]


def test_trajectory_keeps_the_crop_inside_and_is_seeded():
    a = random_trajectory(np.random.default_rng(5), (90, 120), (40, 50), 12)
    b = random_trajectory(np.random.default_rng(5), (90, 120), (40, 50), 12)
    assert a.shape == (12, 3, 3) and np.array_equal(a, b)
    corners = np.array([[0, 0, 1], [49, 0, 1], [0, 39, 1], [49, 39, 1]], dtype=np.float64)
    for m in a:
        p = corners @ m.T
        xy = p[:, :2] / p[:, 2:]
        assert np.all(xy >= -1e-9) and np.all(xy[:, 0] <= 119 + 1e-9) and np.all(xy[:, 1] <= 89 + 1e-9)
    assert not np.allclose(a[0], a[-1])  # the camera moves
    with pytest.raises(ValueError):
        random_trajectory(np.random.default_rng(0), (30, 30), (40, 20), 3)


@pytest.mark.parametrize("foreground", [False, True])
def test_known_warps_align_consecutive_frames_exactly(foreground):
    clip = render_clip(_ramp(), np.random.default_rng(1), frames=6, crop_size=(40, 56), foreground=foreground)
    assert clip.frames.shape == (6, 3, 40, 56) and clip.coords.shape == (5, 40, 56, 2)
    assert float(clip.valid.float().mean()) > 0.5
    warped = warp_backward(clip.frames[:-1].double(), clip.coords.double())
    diff = (warped - clip.frames[1:]).abs().amax(1)
    assert float(diff[clip.valid].max()) < 1e-3
    if foreground:  # the patch is a different part of the image: the background warp is wrong there
        assert float(diff[~clip.valid].max()) > 1


def test_warping_error_of_the_ground_truth_is_about_zero():
    clip = render_clip(_smooth_scene(), np.random.default_rng(2), frames=5, crop_size=(48, 64))
    hdr = grade_HDR10(expose(clip.frames))
    ys, xs = torch.meshgrid(torch.arange(48.0), torch.arange(64.0), indexing="ij")
    identity = torch.stack([xs, ys], -1).expand_as(clip.coords)
    exact = warping_error(hdr, clip.coords, clip.valid)
    assert exact < 1e-3  # a third of a 10-bit PQ code value: bilinear resampling of curved light
    assert warping_error(hdr, identity, clip.valid) > 10 * exact


def test_auto_exposure_lands_in_the_target_band_and_is_smoothed():
    scene = _smooth_scene(48, 64)
    frames = torch.stack([scene * 2.0 ** (t % 2 * 3) for t in range(5)])  # brightness jumps 3 stops
    for f in frames:
        T = search_exposure(f)
        L = frame_luminance(torch.clamp(f * T, 0, 1) ** (1 / 2.2))
        assert AUTO_EXPOSURE_BAND[0] <= L <= AUTO_EXPOSURE_BAND[1]
    ldr, T = auto_exposure(frames)
    raw = np.array([search_exposure(f) for f in frames])
    assert T[0] == raw[0]
    for i in range(1, 5):
        assert T[i] == pytest.approx(0.8 * raw[i] + 0.2 * T[i - 1])
    assert torch.equal(ldr * 255, torch.round(ldr * 255))
    # a steady scene keeps its exposure, so the 8-bit frames stay in the band (up to quantisation)
    steady, Ts = auto_exposure(scene.expand(3, *scene.shape))
    assert np.allclose(Ts, Ts[0])
    assert AUTO_EXPOSURE_BAND[0] - 2 / 255 <= frame_luminance(steady[1]) <= AUTO_EXPOSURE_BAND[1] + 2 / 255


@pytest.mark.parametrize("exposures,stops", [(2, 1), (2, 3), (3, 2)])
def test_alternating_exposures_have_the_requested_ev_ratio(exposures, stops):
    scene = torch.full((3, 8, 8), 0.05, dtype=torch.float64).expand(6, 3, 8, 8)
    clip = alternating_exposure(scene, np.random.default_rng(0), exposures, stops, noise_sigma=0)
    assert list(clip.ev) == list(exposure_values(6, exposures, stops))
    linear = clip.ldr.double() ** 2.2
    ratio = float(linear[exposures - 1].mean() / linear[0].mean())
    assert ratio == pytest.approx(2.0 ** (2 * stops), rel=0.05)
    assert torch.equal(clip.ldr * 255, torch.round(clip.ldr * 255))


def test_alternating_exposure_noise_and_camera_response():
    scene = torch.full((3, 32, 32), 0.2, dtype=torch.float64).expand(2, 3, 32, 32)
    rng = np.random.default_rng(3)
    noisy = alternating_exposure(scene, rng, 2, 1)
    assert set(noisy.ev) == {-1.0, 1.0}
    assert float(noisy.ldr[0].std()) > 0  # sigma 1e-3 in the linear domain survives 8 bits at this level
    clean = alternating_exposure(scene, rng, 2, 1, noise_sigma=0, crf=oetf_BT709)
    assert float(clean.ldr[0].std()) == pytest.approx(0, abs=1e-12)
    assert float(clean.ldr[0, 0, 0, 0]) == pytest.approx(float(oetf_BT709(torch.tensor(0.1))), abs=0.5 / 255)




def test_shot_noise_grows_with_the_square_root_of_the_exposure():
    levels = torch.tensor([0.02, 0.2]).view(2, 1, 1, 1).expand(2, 3, 128, 128).double()
    clip = alternating_exposure(levels, np.random.default_rng(1), 2, 1, noise_sigma=0, full_well=500.0,
                                crf=lambda L: L)  # a linear camera: the noise is read off directly
    # EV -1 then +1: exposures 0.01 and 0.4, shot noise sqrt(L / 500) = 0.0045 and 0.028 (1 and 7 codes)
    sigma = [float(f.std()) for f in clip.ldr]
    assert sigma[0] == pytest.approx((0.01 / 500) ** 0.5, rel=0.2)
    assert sigma[1] == pytest.approx((0.4 / 500) ** 0.5, rel=0.1)
