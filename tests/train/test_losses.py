import math

import pytest
import torch

from hdrconv.train.losses import LOSSES, charbonnier_pq, l1_pq


def test_l1_and_charbonnier_hand_computed():
    out = torch.tensor([0.5, 0.2, 0.9])
    ref = torch.tensor([0.4, 0.2, 0.6])
    assert float(l1_pq(out, ref)) == pytest.approx((0.1 + 0 + 0.3) / 3)
    eps = 1e-3
    expected = (math.sqrt(0.01 + eps**2) + eps + math.sqrt(0.09 + eps**2)) / 3
    assert float(charbonnier_pq(out, ref)) == pytest.approx(expected, rel=1e-6)
    assert set(LOSSES) == {"l1", "charbonnier"}


def test_temporal_loss_is_zero_for_a_consistent_sequence_and_positive_for_flicker():
    import torch

    from hdrconv.train.losses import temporal_loss, video_itm_loss

    g = torch.Generator().manual_seed(0)
    base = torch.rand(1, 3, 16, 24, generator=g)
    # a pan of two pixels a frame to the right: pixel x of frame t + 1 is x - 2 of frame t
    frames = torch.stack([torch.roll(base, 2 * t, dims=-1) for t in range(4)], dim=1)  # (1, 4, 3, 16, 24)
    xs, ys = torch.meshgrid(torch.arange(24.0), torch.arange(16.0), indexing="xy")
    coords = torch.stack([xs - 2, ys], dim=-1).expand(1, 3, 16, 24, 2)
    valid = (coords[..., 0] >= 0).clone()
    assert float(temporal_loss(frames, coords, valid)) < 1e-6
    gains = torch.tensor([1.0, 0.8, 1.0, 0.8]).view(1, 4, 1, 1, 1)
    flicker = temporal_loss(frames * gains, coords, valid)
    assert float(flicker) > 0.05
    # the wrapped-round columns are not valid: counting them would make the consistent clip inconsistent
    assert float(temporal_loss(frames, coords, torch.ones_like(valid))) > 0.01
    # against a reference, only what differs from the reference's own motion counts
    assert float(temporal_loss(frames * gains, coords, valid, reference=frames * gains)) == 0
    assert float(video_itm_loss(frames, (frames, coords, valid))) == 0
    assert float(video_itm_loss(frames * gains, (frames, coords, valid))) > float(flicker)
