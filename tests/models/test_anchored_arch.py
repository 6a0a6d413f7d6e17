"""AnchoredITM: it starts as BT.2446 Method A and, whatever its weights, stays inside its trust region
and is never flatter than its SDR."""

import torch

from hdrconv.color.conventions import BT2020_WEIGHTS
from hdrconv.data.metrics import log_spread
from hdrconv.models import anchored_arch
from hdrconv.models.anchored_arch import MASTERING_PEAK_NITS, TRUST_STOPS, AnchoredITMNet
from hdrconv.models.analytic import BT2446A, sdr_in_hdr_BT2408


def _luminance(x):
    return torch.einsum("c,nchw->nhw", torch.tensor(BT2020_WEIGHTS), x)


def _wild(net: AnchoredITMNet, seed: int) -> AnchoredITMNet:
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 3)  # far outside anything trained
    return net.eval()


def test_untrained_network_is_method_A():
    x = torch.rand(2, 3, 40, 56)
    net = AnchoredITMNet().eval()
    with torch.no_grad():
        ours = net.render(x, *net.analyse(x))
    reference, _ = BT2446A().process(x, None)
    torch.testing.assert_close(ours, reference)


def test_any_weights_stay_within_the_trust_region_and_the_peak():
    x = torch.rand(2, 3, 40, 56)
    prior, _ = BT2446A().process(x, None)
    for seed in range(3):
        net = _wild(AnchoredITMNet(), seed)
        with torch.no_grad():
            out = net.render(x, *net.analyse(x))
        assert torch.isfinite(out).all() and float(out.min()) >= 0
        assert float(out.max()) <= MASTERING_PEAK_NITS
        lo, hi = TRUST_STOPS
        # luminance within the bounds, up to the saturation change (at most 0.4 of the colour difference)
        ratio = _luminance(out) / _luminance(prior).clamp(min=1e-6)
        visible = _luminance(prior) > 1
        assert float(ratio[visible].min()) >= 2**lo * 0.5 and float(ratio[visible].max()) <= 2**hi * 1.5


def test_inference_in_place_equals_the_training_path():
    net = _wild(AnchoredITMNet(), 7)
    x = torch.rand(1, 3, 32, 48)
    with torch.no_grad():
        fast = net.render(x, *net.analyse(x))
    slow = net.render(x, *net.analyse(x))
    torch.testing.assert_close(fast, slow.detach())
    slow.mean().backward()
    assert net.head_curve.weight.grad is not None


def test_video_smooths_within_a_shot_and_restarts_at_a_cut():
    net = _wild(AnchoredITMNet(), 1)
    a, b = torch.rand(1, 3, 32, 48) * 0.3, 0.6 + 0.4 * torch.rand(1, 3, 32, 48)
    with torch.no_grad():
        _, state = net.video_frame(a, None, 0.95)
        same, _ = net.video_frame(a, state, 0.95)
        after_cut, _ = net.video_frame(b, state, 0.95)
        fresh, _ = net.video_frame(b, None, 0.95)
        alone = net.render(a, *net.analyse(a))
    torch.testing.assert_close(same, alone)  # a steady shot: the average of equal parameters
    torch.testing.assert_close(after_cut, fresh)  # a cut: nothing carried over


def test_a_flattening_correction_is_shrunk_until_the_picture_is_as_contrasty_as_its_sdr(monkeypatch):
    # a smooth picture (a ramp under a soft shading), so that its thumbnail and the frame agree
    yy, xx = torch.meshgrid(torch.linspace(0, 1, 64), torch.linspace(0, 1, 96), indexing="ij")
    x = torch.stack([xx * (0.6 + 0.4 * yy), xx * 0.9, xx * (1 - 0.5 * yy)])[None]
    net = AnchoredITMNet().eval()
    with torch.no_grad():
        # an exposure curve falling over the SDR levels: +1 stop in the blacks, -3 at white
        net.head_curve.bias.copy_(torch.linspace(3.0, -6.0, net.knots))
        floored = net.render(x, *net.analyse(x))
        monkeypatch.setattr(anchored_arch, "contrast_floor", lambda sdr, *_: torch.ones(len(sdr), 1, 1, 1))
        raw = net.render(x, *net.analyse(x))
    sdr = float(log_spread(sdr_in_hdr_BT2408(x)))
    assert float(log_spread(raw)) < sdr - 0.2  # without the floor the correction flattens the picture
    assert float(log_spread(floored)) >= sdr

