import numpy as np
import pytest
import torch

from hdrconv.color._colour import colour
from hdrconv.data.grading import expose, grade_HDR10, luminance
from hdrconv.data.synthesis import (EVALUATION_TONE_MAPPERS, TONE_MAPPERS, SDRRecipe, camera_knee,
                                     drago_adaptive_log, eetf_to_SDR, evaluation_recipes, gamut_map_BT2020_to_BT709,
                                     h264_roundtrip, hable_filmic, random_recipe, reinhard_extended,
                                     sigmoid_filmic, synthesize_SDR, tone_map_SDR)


def _scene(h=16, w=24, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.exp(torch.randn(3, h, w, generator=g) * 2)  # ~11 stops of scene light


def test_curves_hand_computed_points():
    x = torch.tensor([0.0, 1.0, 4.0])
    np.testing.assert_allclose(reinhard_extended(x, 4.0).numpy(), [0, 0.5 * (1 + 1 / 16), 1.0], rtol=1e-6)
    w = torch.tensor([0.0, 11.2 / 2])  # exposure bias 2: W / 2 reaches white
    np.testing.assert_allclose(hable_filmic(w).numpy(), [0.0, 1.0], atol=1e-6)
    # Drago: L_max maps to 1; with b = 0.5 the exponent is 1: log(2) / log(2 + 8 / 15) / log10(16) at L = 1
    L = torch.tensor([0.0, 1.0, 15.0], dtype=torch.float64)
    np.testing.assert_allclose(drago_adaptive_log(L, 0.5, 15.0).numpy(),
                               [0.0, np.log(2) / np.log(2 + 8 / 15) / np.log10(16), 1.0], rtol=1e-12)
    # sigmoid: white maps to 1, and with c = 1, scale 2: f(2) / f(16) = (2 / 3) / (16 / 17) at x = 1
    x = torch.tensor([0.0, 1.0, 8.0], dtype=torch.float64)
    np.testing.assert_allclose(sigmoid_filmic(x, 1.0, 8.0).numpy(), [0.0, (2 / 3) / (16 / 17), 1.0], rtol=1e-12)


MORE_RECIPES = [SDRRecipe("reinhard", per_channel=False, saturation=0.6), SDRRecipe("hable", exposure_stops=0.5),
                SDRRecipe("drago", per_channel=False, saturation=0.8), SDRRecipe("sigmoid", drago_bias=0.7),
                SDRRecipe("sigmoid", per_channel=False, sigmoid_contrast=1.7), SDRRecipe("eetf", sdr_white=100.0),
                SDRRecipe("eetf", per_channel=False, sdr_white=203.0)]


@pytest.mark.parametrize("recipe", evaluation_recipes() + MORE_RECIPES,
                         ids=lambda r: f"{r.tone_mapper}")
def test_sdr_is_8bit_signal_in_range_and_monotone_in_scene_light(recipe):
    rel = expose(_scene())
    sdr = synthesize_SDR(rel, grade_HDR10(rel), recipe)
    assert sdr.shape == rel.shape and sdr.dtype == torch.float32
    assert float(sdr.min()) >= 0 and float(sdr.max()) <= 1
    assert torch.equal(sdr * 255, torch.round(sdr * 255))
    # grey ramp: brighter scene grey never gives darker SDR, and reference white is bright
    ramp = torch.logspace(-3, 2, 64).expand(3, 1, 64).contiguous()
    out = synthesize_SDR(ramp, grade_HDR10(ramp), recipe)[1, 0]
    assert torch.all(torch.diff(out) >= 0)
    assert float(out[0]) < 0.2 and float(out[-1]) > 0.7


def test_sdr_of_bt709_colours_stays_bt709():
    # a BT.709 primary red, through the BT.2020 HDR grade and the BT.2446 methods, comes back BT.709 red
    red = torch.zeros(3, 2, 2)
    red[0] = 0.5
    for method in ("bt2446a", "bt2446c"):
        lin = tone_map_SDR(red, grade_HDR10(red), SDRRecipe(method))
        assert float(lin[0].min()) > 0.05
        assert float(lin[1:].abs().max()) < 0.02 * float(lin[0].min())
    # grey stays grey
    grey = torch.full((3, 2, 2), 0.5)
    for recipe in evaluation_recipes():
        V = synthesize_SDR(grey, grade_HDR10(grey), recipe)
        assert float(V.amax(0).sub(V.amin(0)).max()) <= 1 / 255 + 1e-7, recipe.tone_mapper


def test_eetf_keeps_mid_tones_in_nits_and_rolls_highlights_off_to_sdr_white():
    nits = torch.tensor([10.0, 25.0, 1000.0]).view(1, 1, 3).expand(3, 1, 3).contiguous()  # the knee (white 100): ~28
    for per_channel in (True, False):
        out = eetf_to_SDR(nits, 100.0, per_channel)
        np.testing.assert_allclose(out[:, 0, :2].numpy(), np.full((3, 2), [0.1, 0.25]), rtol=1e-3)
        assert float(out[:, 0, 2].max()) == pytest.approx(1.0, rel=1e-3)  # the mastering peak reaches SDR white
    # per channel, a saturated highlight loses saturation; on max(R, G, B) its ratios are kept
    colour_ = torch.tensor([800.0, 200.0, 50.0]).view(3, 1, 1)
    kept = eetf_to_SDR(colour_, 100.0, per_channel=False)[:, 0, 0]
    np.testing.assert_allclose((kept / kept[0]).numpy(), [1.0, 0.25, 0.0625], rtol=1e-5)
    each = eetf_to_SDR(colour_, 100.0, per_channel=True)[:, 0, 0]
    assert float(each[1] / each[0]) > 0.3


def test_gamut_mapping_keeps_bt709_colours_and_luminance_of_wider_ones():
    m = colour.matrix_RGB_to_RGB(colour.RGB_COLOURSPACES["ITU-R BT.709"], colour.RGB_COLOURSPACES["ITU-R BT.2020"])
    inside = torch.tensor([0.2, 0.5, 0.1])
    got = gamut_map_BT2020_to_BT709(torch.from_numpy(m @ inside.numpy()).float().view(3, 1, 1)).view(3)
    assert torch.allclose(got, inside, atol=1e-5)
    green2020 = torch.tensor([0.0, 0.5, 0.0]).view(3, 1, 1)
    out = gamut_map_BT2020_to_BT709(green2020)
    assert float(out.min()) >= 0
    Y2020 = 0.6780 * 0.5  # BT.2020 luminance of the input
    assert float(luminance(out)) == pytest.approx(Y2020, rel=1e-3)


def test_h264_roundtrip_keeps_size_and_is_close_at_low_crf():
    g = torch.Generator().manual_seed(1)
    frames = torch.nn.functional.interpolate(torch.rand(3, 3, 3, 4, generator=g), size=(33, 47), mode="bilinear")
    frames = torch.round(frames * 255) / 255
    out = h264_roundtrip(frames, crf=12)
    assert out.shape == frames.shape
    mse = float(((out - frames) ** 2).mean())
    assert 0 < mse and -10 * np.log10(mse) > 30  # 4:2:0 chroma alone costs ~35 dB on saturated colours
    coarse = float(((h264_roundtrip(frames, crf=40) - frames) ** 2).mean())
    assert coarse > mse


def test_random_recipes_are_seeded_and_cover_the_family():
    a = [random_recipe(np.random.default_rng(3)) for _ in range(2)]
    assert a[0] == a[1]
    rng = np.random.default_rng(0)
    drawn = [random_recipe(rng) for _ in range(200)]
    assert {r.tone_mapper for r in drawn} == set(TONE_MAPPERS)
    compressed = [r.crf for r in drawn if r.crf is not None]
    assert 20 < len(compressed) < 80 and min(compressed) >= 18 and max(compressed) <= 32
    assert set(EVALUATION_TONE_MAPPERS) < set(TONE_MAPPERS)
    assert [r.tone_mapper for r in evaluation_recipes()] == list(EVALUATION_TONE_MAPPERS)
    with pytest.raises(ValueError):
        SDRRecipe("filmic-lut")


def test_camera_knee_hand_computed():
    # knee at 0.85 reaching 1.0 at 400 % scene light: V(4) = 1.099 * 4 ** 0.45 - 0.099
    v4 = 1.099 * 4**0.45 - 0.099
    x = torch.tensor([0.3, 2.0, 4.0, 8.0], dtype=torch.float64)
    out = camera_knee(x, 0.85, 4.0)
    v2 = 1.099 * 2**0.45 - 0.099
    np.testing.assert_allclose(out.numpy(), [float(colour.models.oetf_BT709(0.3)),
                                             0.85 + (v2 - 0.85) * 0.15 / (v4 - 0.85), 1.0, 1.0], atol=1e-12)
