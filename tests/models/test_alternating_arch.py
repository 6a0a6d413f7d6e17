"""The coarse-to-fine HDR video network (Chen et al. 2021): DCNv2 against an explicit loop, Eq. 5 masks,
the paper's parameter count, one output per target through the window loop, and a training step."""

import math

import pytest
import torch
import torch.nn.functional as F

from hdrconv.errors import UsageError
from hdrconv.models.alignment import align_to
from hdrconv.models.alternating_arch import HIGH_THRESHOLD, LOW_THRESHOLD, AlternatingExposureNet, well_exposed_mask
from hdrconv.models.coarse_arch import CoarseNet, compress, expand, match_exposure, to_radiance
from hdrconv.models.deform import ModulatedDeformConv, deform_conv2d
from hdrconv.models.learned import CoarseToFine2, CoarseToFine3, CoarseToFineModel
from hdrconv.models.merge import pixel_weight
from hdrconv.models.registry import create
from hdrconv.pipeline import windows
from hdrconv.train.losses import coarse_to_fine_loss

TINY = {"flow_levels": 2, "flow_channels": [4], "flow_scale": 2, "weight_channels": [4, 4, 4], "C": 8,
        "deformable_groups": 2, "extract_blocks": 1, "reconstruct_blocks": 1, "align_scale": 2}


pytestmark = pytest.mark.usefixtures("one_thread")


def bilinear(x, y, px):
    """x[c] at the fractional (y, px), zero outside: DCN's sampling, written out."""
    H, W = x.shape[-2:]
    y0, x0 = math.floor(y), math.floor(px)
    value = torch.zeros(x.shape[0], dtype=torch.float64)
    for yy, wy in ((y0, 1 - (y - y0)), (y0 + 1, y - y0)):
        for xx, wx in ((x0, 1 - (px - x0)), (x0 + 1, px - x0)):
            if 0 <= yy < H and 0 <= xx < W:
                value += wy * wx * x[:, yy, xx].double()
    return value


def slow_deform_conv(x, offset, mask, weight, bias):
    N, C, H, W = x.shape
    O, _, kh, kw = weight.shape
    K = kh * kw
    G = mask.shape[1] // K
    out = torch.zeros(N, O, H, W, dtype=torch.float64)
    for n in range(N):
        for i in range(H):
            for j in range(W):
                for g in range(G):
                    channels = slice(g * C // G, (g + 1) * C // G)
                    for k in range(K):
                        dy, dx = offset[n, 2 * (g * K + k), i, j], offset[n, 2 * (g * K + k) + 1, i, j]
                        v = bilinear(x[n, channels], i + k // kw - 1 + float(dy), j + k % kw - 1 + float(dx))
                        out[n, :, i, j] += weight[:, channels, k // kw, k % kw].double() @ v * float(mask[n, g * K + k, i, j])
    return out + bias.double().view(1, O, 1, 1)


def test_deformable_convolution_matches_an_explicit_loop():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2, 4, 5, 6, generator=g)
    offset = 1.5 * torch.randn(2, 2 * 2 * 9, 5, 6, generator=g)  # two groups, taps reaching outside
    mask = torch.rand(2, 2 * 9, 5, 6, generator=g)
    weight, bias = torch.randn(3, 4, 3, 3, generator=g), torch.randn(3, generator=g)
    fast = deform_conv2d(x, offset, mask, weight, bias)
    assert torch.allclose(fast.double(), slow_deform_conv(x, offset, mask, weight, bias), atol=1e-4)


def test_zero_offsets_and_unit_masks_are_an_ordinary_convolution():
    g = torch.Generator().manual_seed(1)
    x, weight, bias = torch.randn(1, 8, 7, 9, generator=g), torch.randn(5, 8, 3, 3, generator=g), torch.randn(5, generator=g)
    out = deform_conv2d(x, torch.zeros(1, 2 * 4 * 9, 7, 9), torch.ones(1, 4 * 9, 7, 9), weight, bias)
    assert torch.allclose(out, F.conv2d(x, weight, bias, padding=1), atol=1e-5)
    # a whole-pixel offset of every tap is the convolution of the shifted input
    shift = torch.zeros(1, 2 * 4 * 9, 7, 9)
    shift[:, 1::2] = 1.0  # dx = +1
    shifted = deform_conv2d(x, shift, torch.ones(1, 4 * 9, 7, 9), weight, bias)
    assert torch.allclose(shifted[..., :-2], F.conv2d(x, weight, bias, padding=1)[..., 1:-1], atol=1e-5)
    # the layer starts as a convolution scaled by the initial masks of one half
    layer = ModulatedDeformConv(8, 5, 3, deformable_groups=4)
    ref = F.conv2d(x, layer.weight, padding=1) * 0.5 + layer.bias.view(1, 5, 1, 1)
    assert torch.allclose(layer(x, torch.randn(1, 8, 7, 9)), ref, atol=1e-5)


def test_well_exposed_mask_at_the_thresholds_of_eq_5():
    L = torch.tensor([0.0, 0.075, LOW_THRESHOLD, 0.5, HIGH_THRESHOLD, 0.95, 1.0]).view(1, 1, 1, 7).expand(2, 3, 1, 7)
    low = well_exposed_mask(L, torch.tensor([True, False]), torch.tensor([False, True]))
    assert torch.allclose(low[0, 0, 0], torch.tensor([0.0, 0.25, 1, 1, 1, 1, 1]))  # low-exposure reference
    assert torch.allclose(low[1, 0, 0], torch.tensor([1.0, 1, 1, 1, 1, 0.25, 0]))  # high-exposure reference
    middle = well_exposed_mask(L[:1], torch.tensor([True]), torch.tensor([True]))
    assert torch.allclose(middle[0, 0, 0], torch.tensor([0.0, 0.25, 1, 1, 1, 0.25, 0]))


def test_paper_configuration_has_the_parameters_of_table_4():
    net = AlternatingExposureNet()
    count = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    assert abs(count(net) - 6.1e6) < 0.15 * 6.1e6
    assert abs(count(net.coarse) - 3.1e6) < 0.05 * 3.1e6 and abs(count(net.refine) - 3.0e6) < 0.05 * 3.0e6
    assert count(CoarseToFine2.build_net(**CoarseToFine2.CPU_ARCH)) < count(net) / 5


def test_exposure_helpers_invert_the_camera():
    ldr = torch.rand(1, 2, 3, 4, 5)
    stops = torch.tensor([[-2.0, 2.0]])
    radiance = to_radiance(ldr, stops)
    assert torch.allclose(radiance[0, 1], ldr[0, 1] ** 2.2 / 4)
    # the dark frame brought to +2 stops clips where the bright one would
    matched = match_exposure(ldr, stops, torch.tensor([[2.0, 2.0]]))
    assert torch.allclose(matched[0, 0], (ldr[0, 0] ** 2.2 * 16).clamp(max=1) ** (1 / 2.2), atol=1e-6)
    assert torch.allclose(matched[0, 1], ldr[0, 1], atol=1e-6)
    r = torch.tensor([0.0, 0.01, 1.0, 8.0, 30.0])
    assert torch.allclose(expand(compress(r)), r, rtol=1e-4, atol=1e-6)


def _trained(cls, tmp_path, seed=0):
    torch.manual_seed(seed)
    path = tmp_path / f"{cls.name}.pt"
    torch.save(cls.build_net(**TINY).state_dict(), path)
    return cls(weights=str(path), **TINY)


@pytest.mark.parametrize("cls, cycle", [(CoarseToFine2, (-2.0, 2.0)), (CoarseToFine3, (-2.0, 0.0, 2.0))])
def test_one_hdr_frame_per_input_frame_through_the_window_loop(cls, cycle, tmp_path):
    model = _trained(cls, tmp_path)
    assert model.context == (cls.exposures, cls.exposures) and model.task == "alt-exp"
    g = torch.Generator().manual_seed(2)
    frames = torch.rand(9, 3, 30, 45, generator=g)  # a size no multiple of the network's strides
    stream = [windows.Frame(f, i, cycle[i % len(cycle)]) for i, f in enumerate(frames)]
    out = list(windows.run(model, stream))
    assert [w.indices[w.targets] for w, _ in out] == [(i,) for i in range(9)]
    hdr = torch.cat([h for _, h in out])
    assert hdr.shape == (9, 3, 30, 45) and torch.isfinite(hdr).all() and float(hdr.min()) >= 0
    # the network starts as CoarseNet: its radiance is the window's (the alt-exp domain), the neighbours
    # brought onto the target frame first
    window = next(windows.windows(stream, 1, model.context))
    stops = torch.tensor([window.exposures])
    aligned = torch.stack(align_to(window.frames, window.exposures, cls.exposures))
    assert not torch.equal(aligned, window.stacked())
    with torch.no_grad():
        direct, coarse, _ = model.net(aligned[None], stops)
    assert torch.allclose(direct, coarse)
    assert torch.allclose(out[0][1], direct[0].clamp(min=0), atol=1e-3)
    with pytest.raises(UsageError):
        model.process(frames, None)
    with pytest.raises(UsageError):  # footage without exposures
        list(windows.run(model, [windows.Frame(f, i) for i, f in enumerate(frames)]))


def test_coarsenet_starts_as_merge_and_keeps_a_ghost_out():
    torch.manual_seed(0)
    net = CoarseNet(3, flow_levels=2, flow_channels=(4,), flow_scale=2, weight_channels=(4, 4, 4))
    ys, xs = torch.meshgrid(torch.linspace(0, 1, 32), torch.linspace(0, 1, 32), indexing="ij")
    radiance = torch.stack([0.05 + 0.3 * xs, 0.05 + 0.3 * ys, 0.2 + 0.1 * xs * ys])[None].repeat(3, 1, 1, 1)
    radiance[0, :, 8:16, 8:16] *= 3  # something else in the first neighbour: a ghost
    stops = torch.tensor([-1.0, 1.0, -1.0])
    ldr = (radiance * torch.exp2(stops)[:, None, None, None]).clamp(0, 1) ** (1 / 2.2)
    with torch.no_grad():
        out = net(ldr[None], stops[None])[0]
    assert torch.allclose(out, radiance[1], atol=1e-4)
    # hat weights alone (the agreement left out) merge the ghost in
    hat = pixel_weight(ldr, dim=1).unsqueeze(1)
    assert ((hat * radiance).sum(0) / hat.sum(0) - radiance[1]).abs().amax() > 0.05


def test_untrained_model_refuses_to_run():
    model = create("c2f-2exp", weights="/nonexistent/c2f.pt")
    assert not model.trained and model.info()["weights"] is None and model.info()["task"] == "alt-exp"
    stream = [windows.Frame(torch.rand(3, 16, 16), i, (-1.0, 1.0)[i % 2]) for i in range(3)]
    with pytest.raises(UsageError, match="no trained weights"):
        list(windows.run(model, stream))


def test_a_training_step_lowers_the_loss_on_a_fixed_batch():
    torch.manual_seed(0)
    net = AlternatingExposureNet(exposures=2, **TINY)
    g = torch.Generator().manual_seed(3)
    # both exposures well exposed in places (where one frame alone has weight, its weight cannot matter)
    radiance = torch.rand(2, 1, 3, 16, 16, generator=g) * 0.8
    stops = torch.tensor([[-1.0, 1.0, -1.0, 1.0, -1.0], [1.0, -1.0, 1.0, -1.0, 1.0]])
    ldr = (radiance * torch.exp2(stops)[..., None, None, None]).clamp(0, 1) ** (1 / 2.2)
    # the centre frame noisy, below the ghost threshold: the merge the network starts as weighs it as
    # much as its clean neighbours
    ldr[:, 2] = (ldr[:, 2] + 0.02 * torch.randn(ldr[:, 2].shape, generator=g)).clamp(0, 1)
    target = radiance[:, 0]
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    losses = []
    for _ in range(20):
        loss = coarse_to_fine_loss(net(ldr, stops), target)
        opt.zero_grad()
        loss.backward()
        losses.append(loss.item())
        opt.step()
    assert all(p.grad is not None for p in net.parameters() if p.requires_grad)
    assert losses[-1] < 0.8 * losses[0]


def test_every_alt_exp_model_is_a_coarse_to_fine_configuration():
    assert issubclass(CoarseToFine2, CoarseToFineModel) and CoarseToFine2.default_arch == CoarseToFineModel.CPU_ARCH
    assert CoarseToFine3.build_net(**TINY).frames == 7
