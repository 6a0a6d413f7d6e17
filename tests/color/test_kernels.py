"""hdrconv.color.kernels: the fast power against torch's, on every path it takes; the table look-up."""

import numpy as np
import pytest
import torch

from hdrconv.color.kernels import lookup, power


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


def test_lookup_takes_the_nearest_entry_of_each_sample_table():
    tables = torch.stack([torch.arange(11.0), 100 + torch.arange(11.0)])
    x = torch.tensor([0.0, 0.04, 0.06, 0.5, 0.96, 1.0]).view(1, 1, 1, 6).expand(2, 1, 1, 6)
    np.testing.assert_array_equal(lookup(tables, x)[:, 0, 0].numpy(),
                                  [[0, 0, 1, 5, 10, 10], [100, 100, 101, 105, 110, 110]])
