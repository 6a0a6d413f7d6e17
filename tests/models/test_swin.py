import pytest
import torch

from hdrconv.models.swin import (MASKED, SwinBlock, attention_mask, relative_position_index, window_partition,
                                 window_reverse)


def test_relative_position_index_equals_the_explicit_offsets():
    for M in (1, 2, 3, 4):
        index = relative_position_index(M)
        tokens = [(y, x) for y in range(M) for x in range(M)]  # row-major, as windows are flattened
        slow = torch.tensor([[(yi - yj + M - 1) * (2 * M - 1) + (xi - xj + M - 1) for yj, xj in tokens]
                             for yi, xi in tokens])
        assert torch.equal(index, slow)
        assert index.min() == 0 and index.max() == (2 * M - 1) ** 2 - 1


def test_window_partition_round_trips():
    x = torch.randn(2, 6, 8, 3)
    w = window_partition(x, 2)
    assert w.shape == (2 * 3 * 4, 4, 3)
    assert torch.equal(w[1], x[0, 0:2, 2:4].reshape(4, 3))  # second window of the first image, row-major
    assert torch.equal(window_reverse(w, 2, 6, 8), x)


@pytest.mark.parametrize("H, W, M, shift, valid", [(8, 8, 4, 2, None), (8, 12, 4, 2, (7, 10)), (6, 9, 3, 1, None),
                                                   (8, 8, 4, 0, (6, 5))])
def test_a_token_never_attends_across_the_shift_boundary_nor_to_padding(H, W, M, shift, valid):
    mask = attention_mask(H, W, M, shift, valid)
    h, w = valid or (H, W)
    # where each token of the shifted grid was before the cyclic shift, window by window
    ys, xs = torch.meshgrid(torch.arange(H), torch.arange(W), indexing="ij")
    where = torch.stack([(ys + shift) % H, (xs + shift) % W], dim=-1)[None]
    pos = window_partition(where, M)  # (windows, M*M, 2)
    gap = (pos[:, :, None] - pos[:, None, :]).abs().amax(dim=-1)
    padding = (pos[..., 0] >= h) | (pos[..., 1] >= w)
    # neighbours in the image (both real tokens, within one window's span) or both padding
    allowed = ((gap < M) & ~padding[:, :, None] & ~padding[:, None, :]) | (padding[:, :, None] & padding[:, None, :])
    real = ~padding[:, :, None] & ~padding[:, None, :]
    assert set(mask.unique().tolist()) == {0.0, MASKED}
    assert torch.equal((mask == 0)[real], allowed[real])
    assert not ((mask == 0) & (padding[:, :, None] ^ padding[:, None, :])).any()


def test_no_mask_where_no_window_mixes_regions():
    assert attention_mask(8, 8, 4, 0) is None and attention_mask(8, 8, 4, 0, (8, 8)) is None


def test_perturbing_a_token_of_another_region_does_not_change_a_shifted_window_s_output():
    torch.manual_seed(0)
    block = SwinBlock(dim=8, num_heads=2, window_size=4, shift=2).eval()
    x = torch.randn(1, 8, 8, 8)
    out = block(x)
    # (7, 7) lands in the last shifted window with the wrapped-round (0, 0), (0, 7) and (6, 0)...
    for y, x_ in [(0, 0), (0, 7), (7, 0), (3, 3)]:
        other = x.clone()
        other[0, y, x_] += 10 * torch.randn(8)  # not a constant: LayerNorm removes that
        assert torch.allclose(block(other)[0, 7, 7], out[0, 7, 7], atol=1e-6), (y, x_)
    # ...and attends to its neighbours in the image
    near = x.clone()
    near[0, 6, 6] += 10 * torch.randn(8)
    assert not torch.allclose(block(near)[0, 7, 7], out[0, 7, 7], atol=1e-3)
    # padded grids: the padding tokens change nothing (a 6 x 7 grid padded to 8 x 8 against its crop's windows)
    small = torch.randn(1, 6, 7, 8)
    padded = torch.cat([torch.cat([small, torch.randn(1, 6, 1, 8)], dim=2), torch.randn(1, 2, 8, 8)], dim=1)
    regular = SwinBlock(dim=8, num_heads=2, window_size=4, shift=0).eval()
    assert torch.allclose(regular(small)[0, :4, :4], regular(padded)[0, :4, :4], atol=1e-6)


def test_a_grid_within_one_window_is_not_shifted_and_bad_shifts_are_refused():
    block = SwinBlock(dim=4, num_heads=1, window_size=4, shift=2)
    assert block(torch.randn(1, 3, 4, 4)).shape == (1, 3, 4, 4)
    with pytest.raises(ValueError):
        SwinBlock(dim=4, num_heads=1, window_size=4, shift=4)
