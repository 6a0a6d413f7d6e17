"""hdrconv report: a PNG of the plot's size, curves drawn, and the frame mean matching the signalled
MaxFALL of a flat clip."""

from __future__ import annotations

import json

import cv2
import numpy as np

from hdrconv.cli import main
from hdrconv.eval.report import BOTTOM, COLOURS, HEIGHT, LEFT, RIGHT, TOP, WIDTH
from tests.media import make_clip, make_patches


def test_report_png(tmp_path, capsys):
    src = make_clip(tmp_path / "in.mkv", size="64x36", seconds=0.5, audio=False)
    hdr = tmp_path / "hdr.mkv"
    assert main(["itm", str(src), str(hdr), "--preset", "fast-preview", "-q"]) == 0
    capsys.readouterr()
    out = tmp_path / "report.png"
    assert main(["report", str(hdr), "-o", str(out), "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert figures["frames"] == 12 and figures["max_cll"] > 100 and figures["mastering_peak"] == 1000
    img = cv2.imread(str(out))
    assert img.shape == (HEIGHT, WIDTH, 3)
    plot = img[TOP:HEIGHT - BOTTOM, LEFT:WIDTH - RIGHT].astype(int)
    for key in ("max", "mean"):
        near = np.abs(plot - np.array(COLOURS[key])).sum(axis=2) < 40
        assert near.sum() > 200, key


def test_frame_mean_matches_maxfall(tmp_path, capsys):
    # white and black halves: bt2408 gives 203 cd/m2 white, a frame mean of 101.5 (MaxFALL 102)
    src = make_patches(tmp_path / "in.mkv", [(235, 128, 128), (16, 128, 128)])
    hdr = tmp_path / "hdr.mkv"
    assert main(["itm", str(src), str(hdr), "--model", "bt2408", "--preset", "fast-preview", "--crf", "0",
                 "-q"]) == 0
    capsys.readouterr()
    assert main(["report", str(hdr), "-o", str(tmp_path / "r.png"), "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert figures["max_fall"] == 102 and abs(figures["measured_max_mean"] - 101.5) < 3


def test_sdr_input_is_refused(tmp_path):
    src = make_clip(tmp_path / "in.mkv", size="64x36", seconds=0.2, audio=False)
    assert main(["report", str(src), "-o", str(tmp_path / "r.png")]) == 65
    assert not (tmp_path / "r.png").exists()
