"""End to end: SDR clip in, HDR10 out, checked by the independent validator and by colour-science."""

from __future__ import annotations

import json
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from hdrconv.color._colour import colour
from hdrconv.io.encode import EncodeSettings
from hdrconv.models import create
from hdrconv.pipeline.convert import convert
from tests.media import decode_yuv10, ffmpeg, make_clip, make_patches

CHECKER = Path(__file__).resolve().parents[2].parent / "shared" / "tools" / "check_hdr10.py"
FAST = EncodeSettings(preset="ultrafast")


def convertible_itm_models(marks: dict | None = None) -> list:
    """Every registered ITM model as a test parameter (with ``marks`` by name); a learned model without
    trained weights is skipped: it refuses to convert anything (``LearnedModel.require_trained``), which
    tests/models checks for it."""
    from hdrconv.models import registry

    params = []
    for name in registry.names("itm"):
        model = create(name)
        if model.kind == "learned" and not model.trained:
            params.append(pytest.param(name, marks=pytest.mark.skip(reason=f"{name} has no trained weights")))
        else:
            params.append(pytest.param(name, marks=(marks or {}).get(name, ())))
    return params


def check_hdr10(out: Path, source: Path) -> str:
    if not CHECKER.exists():
        pytest.skip("shared/tools/check_hdr10.py not beside the checkout")
    r = subprocess.run([sys.executable, str(CHECKER), str(out), "--source", str(source)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


def streams(path: Path) -> list[tuple[str, str, str | None]]:
    with av.open(str(path)) as c:
        return [(s.type, s.codec_context.name, s.metadata.get("language")) for s in c.streams]


@pytest.mark.parametrize("suffix", [".mkv", ".mp4"])
def test_hdr10_output_with_audio_and_subtitles(tmp_path, suffix):
    src = make_clip(tmp_path / f"in{suffix}", subtitles=True)
    out = tmp_path / f"out{suffix}"
    result = convert(str(src), str(out), create("bt2408"), FAST)
    assert result.frames == 24
    report = check_hdr10(out, src)
    assert "HDR10 OK" in report
    kinds = streams(out)
    assert kinds[0][:2] == ("video", "hevc")
    assert ("audio", "aac", "eng") in kinds
    sub = [s for s in kinds if s[0] == "subtitle"]
    assert sub and sub[0][1] == ("srt" if suffix == ".mkv" else "mov_text") and sub[0][2] == "fra"
    if suffix == ".mp4":
        with av.open(str(out)) as c:
            assert c.streams.video[0].codec_context.codec_tag == "hvc1"


def test_light_levels_are_measured_and_signalled(tmp_path):
    # one white and one black patch: bt2408 puts white at 203 cd/m2, so MaxCLL = 203, MaxFALL = 101.5
    src = make_patches(tmp_path / "in.mkv", [(235, 128, 128), (16, 128, 128)])
    out = tmp_path / "out.mkv"
    result = convert(str(src), str(out), create("bt2408"), FAST)
    assert (result.light.max_cll, result.light.max_fall) == (203, 102)
    with av.open(str(out)) as c:
        f = next(c.decode(c.streams.video[0]))
        sd = {str(s.type).split(".")[-1]: bytes(s) for s in f.side_data}
    cll = np.frombuffer(sd["CONTENT_LIGHT_LEVEL"][:8], "<u4")
    assert tuple(cll) == (203, 102)


@pytest.mark.parametrize("bits", [8, 10])
def test_colour_path_matches_colour_science(tmp_path, bits):
    """Flat Y'CbCr patches through decode -> bt2408 -> encode -> decode, against colour-science."""
    codes = [(16, 128, 128), (235, 128, 128), (126, 128, 128), (63, 102, 240), (173, 42, 26),
             (32, 240, 118), (180, 160, 90), (81, 90, 200), (200, 110, 140), (50, 150, 100)]
    if bits == 10:  # 10-bit codes between the 8-bit ones: precision must survive
        codes = [tuple(c * 4 + 1 for c in code) for code in codes]
    src = make_patches(tmp_path / "patches.mkv", codes, bits=bits)
    out = tmp_path / "out.mkv"
    convert(str(src), str(out), create("bt2408"), EncodeSettings(preset="ultrafast", crf=0,
                                                                    x265_params={"lossless": "1"}))
    y, cb, cr = decode_yuv10(out)[0]
    for i, code in enumerate(codes):
        rgb = colour.YCbCr_to_RGB(np.array(code), K=colour.WEIGHTS_YCBCR["ITU-R BT.709"], in_bits=bits,
                                  in_legal=True, in_int=True)
        lin = colour.models.eotf_BT1886(np.clip(rgb, 0, 1)) * 203
        lin2020 = colour.RGB_to_RGB(lin, colour.RGB_COLOURSPACES["ITU-R BT.709"],
                                    colour.RGB_COLOURSPACES["ITU-R BT.2020"])
        pq = colour.models.eotf_inverse_ST2084(np.clip(lin2020, 0, None))
        want = colour.RGB_to_YCbCr(pq, K=colour.WEIGHTS_YCBCR["ITU-R BT.2020"], out_bits=10,
                                   out_legal=True, out_int=True)
        c = slice(i * 16 + 4, i * 16 + 12)
        got = (np.median(y[4:12, c]), np.median(cb[2:6, c.start // 2:c.stop // 2]),
               np.median(cr[2:6, c.start // 2:c.stop // 2]))
        assert abs(got[0] - want[0]) <= 2, (code, got, want)
        assert abs(got[1] - want[1]) <= 3 and abs(got[2] - want[2]) <= 3, (code, got, want)


def test_variable_frame_rate_timestamps_survive(tmp_path):
    src = tmp_path / "vfr.mkv"
    # drop frames 5..9 of a 24 fps clip: a gap in the timestamps that a raw pipe would close
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=96x64:r=24:d=1", "-vf", "select='not(between(n,5,9))'",
           "-fps_mode", "passthrough", "-c:v", "libx264", "-preset", "ultrafast", str(src))
    out = tmp_path / "out.mkv"
    convert(str(src), str(out), create("bt2408"), FAST)

    def times(p):
        with av.open(str(p)) as c:
            return sorted(float(f.pts * f.time_base) for f in c.decode(c.streams.video[0]))

    a, b = times(src), times(out)
    assert len(a) == len(b) == 19
    assert np.allclose(a, b, atol=0.002)


def test_odd_size_drops_last_column_and_row(tmp_path):
    src = make_clip(tmp_path / "odd.mkv", size="97x55", audio=False, vcodec="ffv1", pattern="testsrc")
    out = tmp_path / "out.mkv"
    events = []
    convert(str(src), str(out), create("bt2408"), FAST, emit=events.append)
    with av.open(str(out)) as c:
        v = c.streams.video[0]
        assert (v.codec_context.width, v.codec_context.height) == (96, 54)
    assert any(e["event"] == "warning" and "odd size" in e["message"] for e in events)


def test_json_events_from_the_cli(tmp_path):
    src = make_clip(tmp_path / "in.mkv", audio=False)
    out = tmp_path / "out.mkv"
    r = subprocess.run([sys.executable, "-m", "hdrconv.cli", "itm", str(src), str(out), "--json",
                        "--x265-preset", "ultrafast"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    events = [json.loads(line) for line in r.stdout.splitlines() if '"phase"' not in line]
    assert events[0]["event"] == "start" and events[-1]["event"] == "done"
    assert events[-1]["frames"] == 24 and events[-1]["max_cll"] > 100
    assert out.exists()


def test_pts_keep_their_time_base(tmp_path):
    src = make_clip(tmp_path / "in.mkv", audio=False, rate=30)
    out = tmp_path / "out.mkv"
    convert(str(src), str(out), create("bt2408"), FAST)
    with av.open(str(out)) as c:
        v = c.streams.video[0]
        assert Fraction(v.average_rate) == 30
        assert v.frames in (0, 30)
        assert sum(1 for _ in c.decode(v)) == 30


def test_chapters_and_metadata_are_kept(tmp_path):
    plain = make_clip(tmp_path / "plain.mkv", audio=False)
    meta = tmp_path / "chapters.txt"
    meta.write_text(";FFMETADATA1\ntitle=Holiday\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=500\ntitle=Beach\n"
                    "[CHAPTER]\nTIMEBASE=1/1000\nSTART=500\nEND=1000\ntitle=Sunset\n")
    src = tmp_path / "in.mkv"
    ffmpeg("-i", str(plain), "-i", str(meta), "-map_metadata", "1", "-map_chapters", "1", "-c", "copy", str(src))
    out = tmp_path / "out.mkv"
    convert(str(src), str(out), create("bt2408"), FAST)
    with av.open(str(out)) as c:
        assert [ch["metadata"].get("title") for ch in c.chapters()] == ["Beach", "Sunset"]
        assert c.metadata.get("title") == "Holiday"
