"""The window loop: context with mirror padding at both ends, streams shorter than a window, flush,
one output per input, timestamps, exposures and cut flags with the frames, wrong output counts
refused, and a 3-frame model through a whole conversion."""

from __future__ import annotations

import weakref

import av
import numpy as np
import pytest
import torch

from hdrconv.io.encode import EncodeSettings
from hdrconv.models.analytic import BT2408
from hdrconv.models.base import Model
from hdrconv.pipeline.convert import convert
from hdrconv.pipeline.windows import Frame, run, source_index, windows
from tests.media import ffmpeg


def stream(n: int, **known):
    """``n`` frames whose pixels are their index; ``known`` maps a Frame field to per-frame values."""
    for i in range(n):
        yield Frame(torch.full((3, 2, 2), float(i)), **{k: v[i] for k, v in known.items()})


def shown(window) -> list[int]:
    """The stream index each frame of ``window`` shows, read from its pixels."""
    return [int(f[0, 0, 0]) for f in window.frames]


def test_two_past_and_two_future_frames_mirrored_at_both_ends():
    ws = list(windows(stream(6), 1, (2, 2)))
    assert [w.indices for w in ws] == [(2, 1, 0, 1, 2), (1, 0, 1, 2, 3), (0, 1, 2, 3, 4), (1, 2, 3, 4, 5),
                                       (2, 3, 4, 5, 4), (3, 4, 5, 4, 3)]
    assert all(shown(w) == list(w.indices) for w in ws)
    assert all(w.targets == slice(2, 3) and w.stacked().shape == (5, 3, 2, 2) for w in ws)


def test_a_window_holds_the_streams_frames_not_copies():
    frames = list(stream(4))
    for w in windows(iter(frames), 1, (1, 1)):
        assert all(f is frames[i].rgb for f, i in zip(w.frames, w.indices))
        assert w.stacked(w.targets).data_ptr() == frames[w.indices[1]].rgb.data_ptr()


def test_windows_overlap_and_the_end_of_the_stream_flushes_a_short_one():
    ws = list(windows(stream(8), 3, (2, 2)))
    assert [w.indices[w.targets] for w in ws] == [(0, 1, 2), (3, 4, 5), (6, 7)]
    assert ws[1].indices == (1, 2, 3, 4, 5, 6, 7)
    assert ws[-1].indices == (4, 5, 6, 7, 6, 5) and ws[-1].target_count == 2
    assert all(shown(w) == list(w.indices) for w in ws)


@pytest.mark.parametrize("n, indices", [(2, (1, 1, 0, 1, 0, 0)), (1, (0, 0, 0, 0, 0))])
def test_a_stream_shorter_than_the_context_reflects_then_repeats_its_edge(n, indices):
    (w,) = windows(stream(n), 4, (2, 2))
    assert w.indices == indices and shown(w) == list(indices)
    assert w.indices[w.targets] == tuple(range(n))


def test_mirror_indices():
    assert [source_index(i, 3) for i in range(-4, 7)] == [2, 2, 2, 1, 0, 1, 2, 1, 0, 0, 0]
    assert [source_index(i, None) for i in range(-2, 3)] == [2, 1, 0, 1, 2]


def test_targets_from_a_later_frame_have_the_earlier_ones_as_context():
    ws = list(windows(stream(6), 1, (2, 2), first=3))
    assert [w.indices for w in ws] == [(1, 2, 3, 4, 5), (2, 3, 4, 5, 4), (3, 4, 5, 4, 3)]
    (w,) = windows(stream(4), 2, (0, 2), first=3)
    assert w.indices == (3, 2, 1)


def test_an_empty_stream_has_no_window():
    assert list(windows(stream(0), 2, (1, 1))) == []


def test_windows_stream_with_bounded_memory():
    """Each window comes as soon as its last context frame is read; the loop keeps no more frames
    than one window and its context."""
    alive: weakref.WeakSet = weakref.WeakSet()
    read = 0

    def counted(n):
        nonlocal read
        for f in stream(n):
            alive.add(f.rgb)
            read += 1
            yield f

    for k, w in enumerate(windows(counted(40), 2, (3, 1))):
        targets = w.indices[w.targets]
        # the next future frame, or the mirror image of the first past one
        assert read == min(40, max(targets[-1] + 2, 3 - targets[0] + 1)), k
        assert len(alive) <= 3 + 2 + 1, k


def test_timestamps_exposures_and_cuts_come_with_their_frames():
    n = 7
    pts = [1001 * i + 7 for i in range(n)]
    ev = [-2.0, 2.0] * 4
    cut = [False, False, False, True, False, False, False]
    ws = list(windows(stream(n, timestamp=pts, exposure=ev, cut=cut), 2, (1, 1)))
    for w in ws:
        assert w.timestamps == tuple(pts[i] for i in w.indices)
        assert w.exposures == tuple(ev[i] for i in w.indices)
        assert w.cuts == tuple(cut[i] or i == 0 for i in w.indices)
    assert [t for w in ws for t in w.timestamps[w.targets]] == pts
    assert ws[0].cuts == (False, True, False, False) and ws[1].cuts[2] is True
    (plain,) = windows(stream(1), 1)
    assert plain.exposures == (None,) and plain.timestamps == (None,) and plain.cuts == (True,)


class ThreeFrameMean(Model):
    """The mean of frames t-1, t, t+1 through bt2408: the toy model with context (1, 1)."""

    name = "three-frame-mean"
    window = 4
    context = (1, 1)

    def __init__(self):
        self.seen = []

    def process(self, frames, state):
        self.seen.append(frames.shape[0])
        mean = (frames[:-2] + frames[1:-1] + frames[2:]) / 3
        return BT2408().process(mean, state)


def test_exactly_one_output_per_input_in_order():
    model = ThreeFrameMean()
    out = torch.cat([hdr for _, hdr in run(model, stream(10))])
    assert model.seen == [6, 6, 4]
    # frame t shows t: the means of the mirrored ends are (1 + 0 + 1) / 3 and (8 + 9 + 8) / 3
    means = torch.tensor([2 / 3, 1, 2, 3, 4, 5, 6, 7, 8, 25 / 3]).view(-1, 1, 1, 1).expand(-1, 3, 2, 2)
    expected = BT2408().process(means, None)[0]
    torch.testing.assert_close(out, expected)


class AllFrames(ThreeFrameMean):
    """Wrong: returns the context frames too."""

    def process(self, frames, state):
        return BT2408().process(frames, state)


def test_a_model_returning_another_number_of_frames_is_an_error():
    with pytest.raises(RuntimeError, match="returned 6 frames for a window of 4 target frames"):
        list(run(AllFrames(), stream(10)))


def test_a_three_frame_model_converts_a_whole_file_with_its_timestamps(tmp_path):
    src = tmp_path / "vfr.mkv"
    # 19 frames with a gap in their timestamps: windows of 4 targets, the last one with 3
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=96x64:r=24:d=1", "-vf", "select='not(between(n,5,9))'",
           "-fps_mode", "passthrough", "-c:v", "libx264", "-preset", "ultrafast", str(src))
    out = tmp_path / "out.mkv"
    model = ThreeFrameMean()
    result = convert(str(src), str(out), model, EncodeSettings(preset="ultrafast"))

    def times(p):
        with av.open(str(p)) as c:
            return sorted(float(f.pts * f.time_base) for f in c.decode(c.streams.video[0]))

    a, b = times(src), times(out)
    assert result.frames == len(a) == len(b) == 19
    assert np.allclose(a, b, atol=0.002)
    assert model.seen == [6] * 4 + [5]
