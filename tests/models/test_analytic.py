"""The analytic models: registry, domains, bt2408 against colour-science, BT.2446 inverses against
their forward methods."""

import numpy as np
import pytest
import torch

from hdrconv.color import bt2446
from hdrconv.color._colour import colour
from hdrconv.color.gamut import RGB_to_RGB
from hdrconv.color.transfer import eotf_BT1886, eotf_inverse_BT1886
from hdrconv.models import create, get, names
from hdrconv.models.base import Model

ANALYTIC = ("bt2408", "bt2446a", "bt2446c")


def sdr_frames(T=2, H=16, W=24, seed=0):
    """Random BT.709 R'G'B' frames with black, white and a grey ramp included."""
    x = torch.rand(T, 3, H, W, generator=torch.Generator().manual_seed(seed))
    x[:, :, 0, 0] = 0
    x[:, :, 0, 1] = 1
    x[:, :, 1, :] = torch.linspace(0, 1, W)
    return x


def run(name, frames):
    model = create(name)
    out, state = model.process(frames, model.initial_state())
    assert state is None
    return out


def sdr_BT2020(frames):
    """The SDR input re-coded in BT.2020 (what the BT.2446 forward methods return)."""
    return eotf_inverse_BT1886(RGB_to_RGB(eotf_BT1886(frames), "ITU-R BT.709", "ITU-R BT.2020"))


def test_registered():
    assert set(ANALYTIC) <= set(names("itm"))
    for name in ANALYTIC:
        cls = get(name)
        assert issubclass(cls, Model) and cls.name == name
        info = create(name).info()
        assert info == {**info, "name": name, "task": "itm", "kind": "analytic", "window": 1,
                        "scale": 1, "params": 0, "weights": None}
        assert info["summary"]


@pytest.mark.parametrize("name", ANALYTIC)
def test_domains(name):
    frames = sdr_frames()
    out = run(name, frames)
    assert out.shape == frames.shape and out.dtype == torch.float32
    assert torch.isfinite(out).all() and (out >= 0).all()
    # black stays black; brighter SDR grey, brighter HDR grey
    assert out[:, :, 0, 0].abs().max() < 1e-6
    ramp = out[0, :, 1, :]
    assert (ramp.diff(dim=-1) > 0).all()


def test_bt2408_white_black():
    frames = torch.stack([torch.ones(3, 4, 4), torch.zeros(3, 4, 4)])
    out = run("bt2408", frames)
    torch.testing.assert_close(out[0], torch.full((3, 4, 4), 203.0), atol=1e-3, rtol=0)
    assert (out[1] == 0).all()


def test_bt2408_matches_colour_science():
    frames = sdr_frames()
    ref = colour.RGB_to_RGB(colour.models.eotf_BT1886(np.moveaxis(frames.double().numpy(), 1, -1)) * 203,
                            colour.RGB_COLOURSPACES["ITU-R BT.709"], colour.RGB_COLOURSPACES["ITU-R BT.2020"])
    np.testing.assert_allclose(run("bt2408", frames).numpy(), np.moveaxis(ref, -1, 1), rtol=1e-5, atol=1e-4)


def test_bt2446a_round_trip():
    # SDR -> bt2446a -> Method A HDR to SDR gives the input back within the accuracy of the Report's
    # fitted inverse (Table 4), see tests/color/test_bt2446.py: 1.2 % of full scale on greys, larger
    # but bounded for saturated colours
    frames = sdr_frames()
    back = bt2446.hdr_to_sdr_BT2446_A(run("bt2446a", frames))
    ref = sdr_BT2020(frames)
    torch.testing.assert_close(back[:, :, 1], ref[:, :, 1], atol=0.012, rtol=0)
    err = (back - ref).abs()
    assert err.max() < 0.1 and err.mean() < 0.02


def test_bt2446a_published_peak():
    # Table 4: SDR peak white, Y'' = 255, becomes Y'_HDR = 255 ** E(255) = 999.8 of 1000
    out = run("bt2446a", torch.ones(1, 3, 2, 2))
    torch.testing.assert_close(out, torch.full_like(out, 1000 * 0.9998019**2.4), atol=0.05, rtol=0)


def test_bt2446c_round_trip():
    # Method C's inverse is exact: only float32 rounding through two transfer functions remains
    frames = sdr_frames()
    back = bt2446.hdr_to_sdr_BT2446_C(run("bt2446c", frames))
    torch.testing.assert_close(back, sdr_BT2020(frames), atol=2e-5, rtol=0)


def test_bt2446c_published_points():
    # §6.1.4 design: SDR 96 % signal is HDR reference white (203 cd/m2), SDR 100 % about 333 cd/m2
    out = run("bt2446c", torch.tensor([0.96, 1.0]).view(2, 1, 1, 1).expand(2, 3, 2, 2))
    np.testing.assert_allclose(out[:, :, 0, 0].numpy(), [[203.0] * 3, [332.6] * 3], atol=0.3)


@pytest.mark.parametrize("name", ["bt2408", "bt2446a", "bt2446c", "anchored"])
def test_declared_peak_bounds_the_rgb_cube(name):
    """``peak_nits`` is the source peak of the conversion's roll-off: nothing the model makes of any
    SDR colour may lie above it, and white reaches it (analytic models)."""
    g = torch.linspace(0, 1, 17)
    cube = torch.stack(torch.meshgrid(g, g, g, indexing="ij")).reshape(1, 3, 17, 17 * 17)
    m = create(name)
    hdr = m.process(cube, m.initial_state())[0]
    assert float(hdr.max()) <= m.peak_nits * (1 + 1e-5)
    if m.kind == "analytic":
        assert float(hdr.max()) == pytest.approx(m.peak_nits, rel=1e-5)
