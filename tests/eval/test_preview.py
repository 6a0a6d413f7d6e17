"""hdrconv preview: a PNG of the layout's size whose three panels are not blank; the SDR display
tone mapping leaves SDR-range HDR (bt2408) as it was."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from hdrconv.cli import main
from hdrconv.eval.preview import (MARGIN, PANEL_WIDTH, TITLE_BAND, convert_frame, hdr_to_sdr_display, layout,
                                  parse_time)
from hdrconv.models.analytic import BT2408
from tests.media import make_clip


def test_preview_png(tmp_path):
    src = make_clip(tmp_path / "in.mkv", size="160x90", seconds=1, audio=False)
    out = tmp_path / "cmp.png"
    assert main(["preview", str(src), "--at", "00:00:00.5", "-o", str(out), "--model", "bt2446a"]) == 0
    img = cv2.imread(str(out))
    panel_h, width, height = layout(160, 90)
    assert img.shape == (height, width, 3)
    for i in range(3):
        x = MARGIN + i * (PANEL_WIDTH + MARGIN)
        panel = img[TITLE_BAND:TITLE_BAND + panel_h, x:x + PANEL_WIDTH]
        assert panel.std() > 20, i
    # the false-colour panel shows some colour bands (not only greys)
    fc = img[TITLE_BAND:TITLE_BAND + panel_h, MARGIN + 2 * (PANEL_WIDTH + MARGIN):][:, :PANEL_WIDTH].astype(int)
    assert (np.ptp(fc, axis=2) > 60).mean() > 0.1


class Seeing(BT2408):
    """bt2408 on the middle frame of its window; records the times of the frames it is shown."""

    def __init__(self, temporal, context):
        self.temporal, self.context, self.seen = temporal, context, []

    def process_window(self, window, state):
        self.seen += window.timestamps
        return self.process(window.stacked(window.targets), state)


@pytest.mark.parametrize("temporal, context, seen", [(True, (0, 0), range(13)), (False, (1, 1), (11, 12, 13)),
                                                     (False, (0, 0), (12,))])
def test_a_temporal_model_gets_the_frames_from_the_keyframe_and_any_model_its_context(tmp_path, temporal,
                                                                                       context, seen):
    src = make_clip(tmp_path / "in.mkv", size="64x36", seconds=1, audio=False)  # one keyframe, at 0
    model = Seeing(temporal, context)
    frame = convert_frame(str(src), 0.5, model)
    assert frame.time == pytest.approx(0.5)
    assert [round(t * 24) for t in model.seen] == list(seen)


def test_sdr_range_hdr_round_trips_to_sdr():
    from hdrconv.models import create

    sdr = torch.rand(1, 3, 8, 8)
    hdr, _ = create("bt2408").process(sdr, None)
    assert torch.allclose(hdr_to_sdr_display(hdr[0]), sdr[0], atol=2e-3)


@pytest.mark.parametrize("s, t", [("12.5", 12.5), ("01:30", 90.0), ("1:02:03.5", 3723.5)])
def test_parse_time(s, t):
    assert parse_time(s) == t


def test_past_the_end_and_bad_name(tmp_path, capsys):
    src = make_clip(tmp_path / "in.mkv", size="64x36", seconds=0.5, audio=False)
    assert main(["preview", str(src), "--at", "10", "-o", str(tmp_path / "x.png")]) == 64
    assert main(["preview", str(src), "-o", str(tmp_path / "x.jpg")]) == 64
    assert not list(tmp_path.glob("x.*"))
