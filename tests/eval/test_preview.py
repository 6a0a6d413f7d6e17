"""hdrconv preview: a PNG of the layout's size whose three panels are not blank; the SDR display
tone mapping leaves SDR-range HDR (bt2408) as it was."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from hdrconv.cli import main
from hdrconv.eval.preview import MARGIN, PANEL_WIDTH, TITLE_BAND, hdr_to_sdr_display, layout, parse_time
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
