"""``--model merge`` on a 2-exposure clip made from a real HDR image with small motion (a 1-pixel pan
and a square moving 3 pixels a frame): better than the reference frame alone against the ground truth,
and no ghost of the moving square."""

import pytest
import torch

from hdrconv.color.conventions import ALT_EXP_GAMMA
from hdrconv.color.crf import CameraResponse
from hdrconv.data.grading import alt_exp_HDR10
from hdrconv.data.metrics import psnr_pq
from hdrconv.models import registry
from hdrconv.models.alignment import radiance
from hdrconv.models import merge as merge_module
from hdrconv.models.merge import ExposureMerge, hat_weight
from hdrconv.pipeline import windows
from tests.altexp_media import encode_camera, radiance_frames

STOPS = [-2, 2]
SQUARE, SPEED = 12, 3


@pytest.fixture(scope="module")
def clip():
    truth = radiance_frames(8, square=SQUARE, square_speed=SPEED)
    signal = CameraResponse("bt709").to_linear(encode_camera(truth, STOPS)) ** (1 / ALT_EXP_GAMMA)
    model = registry.create("merge")
    stream = [windows.Frame(f, i, STOPS[i % 2]) for i, f in enumerate(signal)]
    merged = torch.cat([hdr for _, hdr in windows.run(model, stream)])
    alone = torch.stack([radiance(f, STOPS[i % 2]) for i, f in enumerate(signal)])
    return truth, merged, alone


def display(radiance):
    return alt_exp_HDR10(radiance, tuple(STOPS))


def test_merge_is_an_alt_exp_model_over_three_frames():
    assert ExposureMerge.task == "alt-exp" and ExposureMerge.context == (2, 2)
    assert "merge" in registry.names("alt-exp") and "merge" not in registry.names("itm")


def test_merge_beats_the_reference_frame_alone(clip):
    truth, merged, alone = clip
    per_frame = [(psnr_pq(display(merged[t]), display(truth[t])), psnr_pq(display(alone[t]), display(truth[t])))
                 for t in range(len(truth))]
    # measured: bright references (EV+2: the square and highlights clipped) 31.6-37.7 dB merged against
    # 20.4 alone (31.6: the last frame, one neighbour); dark ones (EV-2: 8-bit shadows to gain,
    # alignment to lose) 44.9-45.4 against 45.7-45.8; the clip 40.6 against 33.1
    for t, (m, a) in enumerate(per_frame):
        if STOPS[t % 2] > 0:
            assert m > a + 8, (t, m, a)
        else:
            assert m > a - 1, (t, m, a)
    assert psnr_pq(display(merged), display(truth)) > psnr_pq(display(alone), display(truth)) + 5


def test_no_ghost_of_the_moving_square_on_dark_references(clip):
    truth, merged, alone = clip
    # where the square is, and where it was and will be in the neighbours (their square is clipped and
    # displaced: merged in, it would leave a ghost)
    h = truth.shape[-2]
    for t in range(2, len(truth) - 1, 2):  # the EV-2 frames, which see the square unclipped
        x0, x1 = 4 + SPEED * (t - 1), 4 + SPEED * (t + 1) + SQUARE
        region = (slice(None), slice(h // 2 - SQUARE // 2, h // 2 + SQUARE // 2), slice(x0, x1))
        assert psnr_pq(display(merged[t][region]), display(truth[t][region])) > \
            psnr_pq(display(alone[t][region]), display(truth[t][region])) - 1.5
        assert psnr_pq(display(merged[t][region]), display(alone[t][region])) > 40


def test_a_frame_merged_in_strips_is_the_frame_merged_whole(clip, monkeypatch):
    truth, merged, _ = clip
    signal = CameraResponse("bt709").to_linear(encode_camera(truth[2:5], STOPS)) ** (1 / ALT_EXP_GAMMA)
    stops = (STOPS[0], STOPS[1], STOPS[0])
    whole = merge_module.merge([signal[1], signal[0], signal[2]], (stops[1], stops[0], stops[2]), 0)
    h, w = signal.shape[-2:]
    monkeypatch.setattr(merge_module, "STRIP_PIXELS", w * 5)  # strips of 5 rows, 3 of halo each side
    strips = merge_module.merge([signal[1], signal[0], signal[2]], (stops[1], stops[0], stops[2]), 0)
    assert h > 5 * 4 and torch.equal(strips, whole)
    assert float((whole - merged[3]).abs().max()) < 1e-6  # the merge of frame 3 inside the clip


def test_hat_weight_is_debevec_malik():
    V = torch.tensor([0.0, 0.01, 0.255, 0.5, 0.745, 0.99, 1.0])
    assert hat_weight(V).tolist() == pytest.approx([0, 0, 0.5, 1, 0.5, 0, 0], abs=1e-6)


def test_merge_needs_the_exposures():
    frames = torch.rand(3, 3, 8, 8)
    with pytest.raises(ValueError, match="exposure"):
        list(windows.run(registry.create("merge"), [windows.Frame(f) for f in frames]))
