import pytest
import torch

from hdrconv.color.bt2446 import sdr_BT709_to_BT2020, sdr_to_hdr_BT2446_A
from hdrconv.errors import UsageError
from hdrconv.models.learned import TemporalITMModel
from hdrconv.models.temporal_arch import TemporalITMNet
from hdrconv.pipeline import windows
from hdrconv.train.losses import video_itm_loss

TINY = {"features": 8, "downscale": 4, "encoder_blocks": 1, "embed_dim": 8, "depth": 2, "num_heads": 2,
        "window_size": 2, "swin_downscale": 2, "expand_width": 8, "dilated_layers": 1, "global_size": 4}
"""32 x 48 frames: 8 x 12 features, 4 x 6 tokens in 2 x 2 windows, the second block shifted."""


pytestmark = pytest.mark.usefixtures("one_thread")


def _wake(net: torch.nn.Module, seed: int = 0) -> torch.nn.Module:
    """The heads that start at zero (flow, correction, saturation) given random weights, as training
    would, so that the output depends on the state."""
    g = torch.Generator().manual_seed(seed)
    for layer in (net.align.flow_out, net.propagate.stops, net.propagate.saturation):
        for p in layer.parameters():
            p.data = 0.3 * torch.randn(p.shape, generator=g)
    return net


@pytest.fixture
def weights(tmp_path):
    torch.manual_seed(0)
    path = tmp_path / "temporal.pt"
    torch.save(_wake(TemporalITMNet(**TINY)).state_dict(), path)
    return str(path)


def _clip(seed: int, frames: int = 5, bright: float = 1.0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    base = torch.nn.functional.interpolate(torch.rand(1, 3, 4, 6, generator=g), size=(32, 48), mode="bilinear",
                                           align_corners=False)
    # a camera pan of a pixel a frame
    return torch.cat([torch.roll(base, t, dims=-1) for t in range(frames)]).mul(bright).clamp(0, 1)


def _run(model, frames, cuts=()):
    stream = (windows.Frame(f, i, cut=i in cuts) for i, f in enumerate(frames))
    results = list(windows.run(model, stream))
    return results, torch.cat([hdr for _, hdr in results])


def test_untrained_it_refuses_to_run_and_lists_as_untrained():
    model = TemporalITMModel(weights="/nonexistent/temporal.pt")
    assert model.info()["weights"] is None and model.temporal and model.task == "itm"
    with pytest.raises(UsageError, match="no trained weights"):
        _run(model, _clip(0, 2))


def test_with_its_heads_at_zero_the_network_is_bt2446_method_a():
    x = _clip(1, 3)
    net = TemporalITMNet(**TINY).eval()
    with torch.no_grad():
        state, out = None, []
        for f in x.split(1):
            hdr, state = net.step(f, state)
            out.append(hdr)
    assert torch.allclose(torch.cat(out), sdr_to_hdr_BT2446_A(sdr_BT709_to_BT2020(x)), rtol=1e-5, atol=1e-4)


def test_one_output_per_frame_over_several_windows_and_window_size_does_not_matter(weights):
    frames = _clip(2, 7)
    one = TemporalITMModel(weights=weights, **TINY)
    results, out1 = _run(one, frames)
    assert len(results) == 7 and out1.shape == (7, 3, 32, 48) and torch.isfinite(out1).all()
    four = TemporalITMModel(weights=weights, **TINY)
    four.window = 4  # two windows, the second one short
    results4, out4 = _run(four, frames)
    assert [w.target_count for w, _ in results4] == [4, 3]
    assert torch.allclose(out1, out4, rtol=1e-5, atol=1e-3)
    # the state matters: frame 3 converted on its own differs from frame 3 in the stream
    alone = TemporalITMModel(weights=weights, **TINY).process(frames[3:4], None)[0]
    assert (alone - out1[3:4]).abs().max() > 1e-2


@pytest.mark.parametrize("signalled", [True, False])
def test_a_scene_cut_restarts_the_state(weights, signalled):
    first, second = _clip(3, 3, bright=0.25), _clip(4, 3)
    model = TemporalITMModel(weights=weights, **TINY)
    # signalled by the window (the stream's cut flag), or seen by the histogram detector
    _, out = _run(model, torch.cat([first, second]), cuts={3} if signalled else set())
    _, fresh = _run(TemporalITMModel(weights=weights, **TINY), second)
    assert torch.allclose(out[3:], fresh, rtol=1e-5, atol=1e-3)
    # without the cut the second shot would carry the first one's state
    _, carried = _run(TemporalITMModel(weights=weights, **TINY), torch.cat([second[:1], second]))
    assert (carried[1:2] - fresh[:1]).abs().max() > 1e-2


def test_reduced_precision_autocast_stays_close_to_float32(weights):
    model = TemporalITMModel(weights=weights, **TINY)
    x = _clip(5, 2)
    with torch.no_grad():
        ref, state = model.net.step(x[:1], None)
        half, _ = model.net.step(x[:1], None, autocast=torch.bfloat16)
    assert half.dtype == torch.float32 and torch.isfinite(half).all()
    assert ((half - ref).abs() / ref.clamp(min=1)).max() < 0.05


def test_recurrent_training_lowers_the_loss_and_reaches_every_layer():
    torch.manual_seed(0)
    net = TemporalITMNet(**TINY)
    sdr = torch.stack([_clip(6, 3), _clip(7, 3)])  # (2, 3 frames, 3, 32, 48)
    with torch.no_grad():
        target = net(sdr * 0.8)  # Method A of a darker exposure: reachable inside the trust region
    coords = torch.stack(torch.meshgrid(torch.arange(48.0), torch.arange(32.0), indexing="xy"), dim=-1)
    coords = (coords - torch.tensor([1.0, 0.0])).expand(2, 2, 32, 48, 2)  # the pan: a pixel to the left
    valid = coords[..., 0] >= 0
    before = {n: p.detach().clone() for n, p in net.named_parameters()}
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    losses = []
    for _ in range(6):
        loss = video_itm_loss(net(sdr), (target, coords, valid))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.7 * losses[0], losses
    unchanged = [n for n, p in net.named_parameters() if torch.equal(p, before[n])]
    assert not unchanged
