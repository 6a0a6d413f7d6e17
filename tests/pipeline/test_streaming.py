"""Memory is bounded by the window, not by the video: count the frames alive while a clip streams."""

from __future__ import annotations

import weakref

import torch

from hdrconv.io.decode import VideoDecoder
from hdrconv.io.encode import EncodeSettings
from hdrconv.models.base import Model
from hdrconv.pipeline.convert import convert
from tests.media import make_clip


class CountingModel(Model):
    """bt2408-like identity-ish model that records how many decoded frames are alive at each window."""

    name = "counting"
    window = 3

    def __init__(self, alive: weakref.WeakSet):
        self.alive = alive
        self.peak = 0
        self.windows = []

    def initial_state(self):
        return 0

    def process(self, frames, state):
        self.peak = max(self.peak, len(self.alive))
        self.windows.append(len(frames))
        return frames * 100.0, state + len(frames)


def test_frames_in_flight_are_bounded_and_state_is_threaded(tmp_path, monkeypatch):
    alive: weakref.WeakSet = weakref.WeakSet()
    to_rgb = VideoDecoder.to_rgb

    def tracked(self, frame):
        t = to_rgb(self, frame)
        alive.add(t)
        return t

    monkeypatch.setattr(VideoDecoder, "to_rgb", tracked)
    src = make_clip(tmp_path / "in.mkv", size="64x48", seconds=4, audio=False)  # 96 frames
    model = CountingModel(alive)
    result = convert(str(src), str(tmp_path / "out.mkv"), model, EncodeSettings(preset="ultrafast"))
    assert result.frames == 96
    assert model.windows == [3] * 32
    # queue in (2) + the window being filled (3) + queue out (2) + one in the hands of each thread
    assert model.peak <= 2 + 3 + 2 + 3, model.peak
    assert torch.is_tensor(next(iter(alive), torch.zeros(1)))
