"""The content light level meter: MaxCLL and MaxFALL of the frames handed to the encoder."""

import torch

from hdrconv.io.hdr_metadata import OUTLIER_FRACTION, LightLevelMeter


def test_small_frames_signal_their_exact_maximum_and_mean():
    meter = LightLevelMeter()
    frames = torch.full((2, 3, 36, 64), 10.0)
    frames[0, 1, 5, 7] = 480.4  # one pixel of 2304: below the outlier count, so it is the peak
    frames[1] = 100.0
    meter.update(frames)
    cll = meter.result()
    assert (cll.max_cll, cll.max_fall) == (481, 100)


def test_a_handful_of_isolated_pixels_does_not_set_maxcll_but_a_highlight_does():
    h, w = 720, 1280
    n = h * w
    spikes = int(n * OUTLIER_FRACTION)  # 92: left out
    frame = torch.full((1, 3, h, w), 50.0)
    frame[0, 0].view(-1)[torch.randperm(n)[:spikes]] = 900.0
    frame[0, 2, :10, :10] = 300.0  # a 100-pixel highlight
    meter = LightLevelMeter()
    meter.update(frame)
    assert meter.result().max_cll == 300
    frame[0, 2, :20, :20] = 950.0  # 400 pixels: more than the outliers left out
    meter.update(frame)
    assert meter.result().max_cll == 950
