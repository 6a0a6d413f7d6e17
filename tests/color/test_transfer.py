"""hdrconv.color.transfer against colour-science on grids of signal and luminance values."""

import numpy as np
import pytest
import torch

from hdrconv.color import transfer
from hdrconv.color._colour import colour

SIGNAL = np.linspace(0, 1, 1025)
NITS = np.concatenate([[0.0], np.geomspace(1e-4, 10000, 1000)])


def _t(a):
    return torch.from_numpy(np.asarray(a, dtype=np.float32))


@pytest.mark.parametrize("L_B, L_W", [(0.0, 1.0), (0.0, 100.0), (0.1, 100.0), (0.05, 203.0)])
def test_eotf_BT1886(L_B, L_W):
    ours = transfer.eotf_BT1886(_t(SIGNAL), L_B, L_W).numpy()
    ref = colour.models.eotf_BT1886(SIGNAL, L_B, L_W)
    np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-6 * L_W)


@pytest.mark.parametrize("L_B, L_W", [(0.0, 1.0), (0.0, 100.0), (0.1, 100.0), (0.05, 203.0)])
def test_eotf_inverse_BT1886(L_B, L_W):
    L = np.linspace(L_B, L_W, 1025)
    ours = transfer.eotf_inverse_BT1886(_t(L), L_B, L_W).numpy()
    ref = colour.models.eotf_inverse_BT1886(L, L_B, L_W)
    # float32 luminance near L_B loses digits before the 1/2.4 power amplifies them
    np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=2e-5)


def test_eotf_ST2084():
    ours = transfer.eotf_ST2084(_t(SIGNAL)).numpy()
    ref = colour.models.eotf_ST2084(SIGNAL)
    np.testing.assert_allclose(ours, ref, rtol=1e-4, atol=1e-7)


def test_eotf_inverse_ST2084():
    ours = transfer.eotf_inverse_ST2084(_t(NITS)).numpy()
    ref = colour.models.eotf_inverse_ST2084(NITS)
    # the m2 = 78.84 power amplifies float32 rounding; 1e-5 is 1/100 of a 10-bit code value
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-5)


def test_ST2084_L_p():
    N = _t(SIGNAL)
    np.testing.assert_allclose(transfer.eotf_ST2084(N, L_p=1000).numpy(),
                               colour.models.eotf_ST2084(SIGNAL, L_p=1000), rtol=1e-4, atol=1e-8)
    np.testing.assert_allclose(transfer.eotf_inverse_ST2084(_t(NITS / 10), L_p=1000).numpy(),
                               colour.models.eotf_inverse_ST2084(NITS / 10, L_p=1000), atol=1e-5)


def test_ST2084_known_values():
    # 203 cd/m2 (BT.2408 reference white) is PQ 58 %; 10 000 cd/m2 is 1.0; 100 cd/m2 is ~0.508
    N = transfer.eotf_inverse_ST2084(torch.tensor([203.0, 10000.0, 100.0])).numpy()
    np.testing.assert_allclose(N, [0.5807, 1.0, 0.5081], atol=1e-4)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_round_trips(dtype):
    V = torch.linspace(0, 1, 257, dtype=dtype)
    tol = 1e-5 if dtype == torch.float32 else 1e-12
    torch.testing.assert_close(transfer.eotf_inverse_BT1886(transfer.eotf_BT1886(V)), V, atol=tol, rtol=0)
    # the inverse PQ of 0 cd/m2 is c1 ** m2 = 7.3e-7, not 0 (ST 2084 as written; colour-science agrees)
    torch.testing.assert_close(transfer.eotf_inverse_ST2084(transfer.eotf_ST2084(V)), V,
                               atol=max(10 * tol, 1e-6), rtol=0)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_oetf_BT709(dtype):
    L = np.concatenate([np.linspace(0, 0.05, 101), np.geomspace(0.05, 8, 200)])  # toe, power law, above 1
    ours = transfer.oetf_BT709(torch.from_numpy(L).to(dtype)).numpy()
    np.testing.assert_allclose(ours, colour.models.oetf_BT709(L), rtol=0, atol=1e-12 if dtype == torch.float64 else 1e-6)
    assert float(transfer.oetf_BT709(torch.tensor(-0.5))) == 0.0  # negative light clipped


def test_ootf_BT2100_PQ():
    E = np.concatenate([[0.0], np.geomspace(1e-6, 1, 1000)])
    ours = transfer.ootf_BT2100_PQ(_t(E)).numpy()
    ref = colour.models.ootf_BT2100_PQ(E)
    np.testing.assert_allclose(ours, ref, rtol=1e-4, atol=1e-6)
