"""hdrconv.color.kernels: the fast power against torch's, on every path it takes."""

import pytest
import torch

from hdrconv.color.kernels import power


@pytest.mark.parametrize("p", [2.4, 1 / 2.4, 0.1593])
def test_power_matches_torch_on_frames_views_and_scalars(p):
    x = torch.rand(2, 3, 17, 23)
    torch.testing.assert_close(power(x, p), x**p, rtol=3e-7, atol=1e-7)
    view = x.transpose(-1, -2)  # not contiguous
    torch.testing.assert_close(power(view, p), view**p, rtol=3e-7, atol=1e-7)
    assert float(power(torch.zeros(4), p).abs().max()) == 0
    for other in (torch.tensor(0.25), x.double(), torch.rand(3, requires_grad=True)):
        torch.testing.assert_close(power(other, p), other**p)  # torch's own kernel
    before = x.clone()
    power(x, p)
    assert torch.equal(x, before)
