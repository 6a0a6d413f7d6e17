"""Inference engine: coverage, cross-fade weights, tiled == untiled, whole frames for untileable
networks, device resolution, LearnedModel."""

import json

import pytest
import torch
from torch import nn

from hdrconv.color.transfer import eotf_ST2084
from hdrconv.errors import UsageError
from hdrconv.models import base
from hdrconv.models.base import LearnedModel
from hdrconv.models.irnet_arch import IRNet
from hdrconv.models.engine import TiledInference, blend_weights, resolve_device, set_threads, tile_spans


@pytest.mark.parametrize("length, tile, blend", [(10, 16, 4), (100, 32, 8), (97, 32, 8), (64, 32, 0)])
def test_spans_cover_the_axis_with_overlap(length, tile, blend):
    spans = tile_spans(length, tile, blend)
    assert spans[0][0] == 0 and spans[-1][1] == length
    assert all(e - s == min(tile, length) for s, e in spans)
    assert all(b[0] <= a[1] - blend for a, b in zip(spans, spans[1:]))


def test_cross_fade_weights_sum_to_one_over_a_blend_wide_overlap():
    length, tile, blend = 56, 32, 8  # two spans overlapping by exactly blend
    (s0, e0), (s1, e1) = tile_spans(length, tile, blend)
    total = torch.zeros(length)
    total[s0:e0] += blend_weights(s0, e0, length, blend)
    total[s1:e1] += blend_weights(s1, e1, length, blend)
    torch.testing.assert_close(total, torch.ones(length))
    assert (blend_weights(s1, e1, length, blend)[:blend] < 1).all()


def local_net(scale=1):
    """Convolutions only: receptive-field radius 3 input pixels."""
    torch.manual_seed(0)
    layers = [nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 8, 5, padding=2)]
    if scale > 1:
        layers += [nn.Conv2d(8, 3 * scale * scale, 1), nn.PixelShuffle(scale)]
    else:
        layers += [nn.Conv2d(8, 3, 1)]
    return nn.Sequential(*layers).eval()


@pytest.mark.parametrize("scale", [1, 2])
def test_tiled_equals_untiled(scale):
    net = local_net(scale)
    x = torch.rand(2, 3, 75, 101)
    with torch.inference_mode():
        whole = net(x)
    tiled = TiledInference(tile=32, margin=4, blend=8)(net, x, scale=scale)
    assert tiled.shape == whole.shape
    torch.testing.assert_close(tiled, whole, rtol=1e-5, atol=1e-6)


def test_margin_below_the_receptive_field_shows_the_tiles():
    net = local_net()
    x = torch.rand(1, 3, 75, 101)
    with torch.inference_mode():
        whole = net(x)
    tiled = TiledInference(tile=32, margin=0, blend=0)(net, x)
    assert (tiled - whole).abs().max() > 1e-3


def test_small_frames_run_in_one_piece():
    net = local_net()
    x = torch.rand(1, 3, 20, 30)
    with torch.inference_mode():
        torch.testing.assert_close(TiledInference(tile=32)(net, x), net(x))


class _Shapes(nn.Module):
    """Identity that records the sizes of the pieces it is given."""

    def __init__(self):
        super().__init__()
        self.sizes = []

    def forward(self, x):
        self.sizes.append(tuple(x.shape[-2:]))
        return x


class Untileable(LearnedModel):
    name = "untileable-test"
    tileable = False

    @classmethod
    def build_net(cls, **arch):
        return _Shapes()


def test_an_untileable_network_gets_whole_frames(tmp_path):
    path = tmp_path / "shapes.pt"
    torch.save({}, path)
    model = Untileable(weights=str(path))
    model.engine.tile = 32
    x = torch.rand(2, 3, 75, 101)
    out, _ = model.process(x, None)
    assert model.net.sizes == [(75, 101)]
    torch.testing.assert_close(out, eotf_ST2084(x))
    TiledInference(tile=32, margin=4, blend=8)(model.net, x)  # the tiled engine cuts them
    assert len(model.net.sizes) > 2


def test_device_resolution():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(UsageError):
        resolve_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(UsageError, match="no CUDA"):
            resolve_device("cuda")


class TinyIRNet(LearnedModel):
    name = "tiny-irnet-test"
    default_arch = {"n": 1, "C": 16}

    @classmethod
    def build_net(cls, **arch):
        return IRNet(**arch)


def test_learned_model_needs_weights(tmp_path):
    model = TinyIRNet(weights=str(tmp_path / "missing.pt"))
    assert not model.trained and model.weights() is None
    with pytest.raises(UsageError, match="no trained weights") as e:
        model.process(torch.rand(1, 3, 8, 8), None)
    assert e.value.code == 64
    assert "hdrconv train tiny-irnet-test" in str(e.value)


def test_learned_model_decodes_the_tiled_pq_output(tmp_path):
    torch.manual_seed(3)
    path = tmp_path / "tiny.pt"
    torch.save(IRNet(n=1, C=16).state_dict(), path)
    model = TinyIRNet(weights=str(path))
    model.engine.tile, model.engine.margin, model.engine.blend = 24, 8, 8
    x = torch.rand(1, 3, 40, 50)
    out, state = model.process(x, "state")
    assert state == "state" and out.shape == x.shape
    with torch.inference_mode():
        reference = eotf_ST2084(model.net(x).clamp(0, 1))
    # tiles change only the image-wide statistics of the channel attention: close, not identical
    assert (out - reference).abs().mean() < 0.05 * reference.mean()


def test_scale_comes_from_the_architecture_and_finds_its_own_weights(tmp_path, monkeypatch):
    monkeypatch.setattr(base, "WEIGHTS_DIR", tmp_path)
    torch.manual_seed(4)
    torch.save(IRNet(n=1, C=16, scale=2).state_dict(), tmp_path / "tiny-irnet-test-x2.pt")
    (tmp_path / "tiny-irnet-test-x2.json").write_text(json.dumps({"arch": {"n": 1, "C": 16, "scale": 2}}))
    x2 = TinyIRNet(scale=2)
    assert x2.scale == 2 and x2.trained and x2.card["arch"]["scale"] == 2
    assert x2.weights() == str(tmp_path / "tiny-irnet-test-x2.pt")
    assert x2.process(torch.rand(1, 3, 8, 12), None)[0].shape == (1, 3, 16, 24)
    x1 = TinyIRNet()
    assert x1.scale == 1 and not x1.trained and TinyIRNet.scale == 1


def test_default_tile_depends_on_the_device():
    assert TiledInference().tile_size == TiledInference.CPU_TILE
    assert TiledInference(device=torch.device("cuda")).tile_size == TiledInference.CUDA_TILE
    assert TiledInference(tile=100).tile_size == 100


def test_thread_setting():
    before = torch.get_num_threads()
    try:
        set_threads(None)
        assert torch.get_num_threads() == before
        set_threads(1)
        assert torch.get_num_threads() == 1
        with pytest.raises(UsageError):
            set_threads(0)
    finally:
        torch.set_num_threads(before)
