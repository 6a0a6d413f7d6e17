"""Unusual but real inputs (issue 15): variable frame rate, odd sizes, rotation, interlacing, streams
the output cannot carry. Each input is made here with the bundled ffmpeg; each conversion is checked
for its exit code, its message, its frames and their timestamps, and by ``check_hdr10.py``."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace
from pathlib import Path

import av
import pytest
import torch

from hdrconv.eval.preview import convert_frame
from hdrconv.io.decode import VideoDecoder
from hdrconv.io.probe import display_matrix, probe, video_stream
from hdrconv.models import create
from hdrconv.pipeline.convert import convert
from hdrconv.reporting import print_probe
from tests.media import ffmpeg
from tests.pipeline.test_convert import FAST, check_hdr10
from tests.test_cli import run


def frame_times(path: Path) -> list[float]:
    with av.open(str(path)) as c:
        return [f.time for f in c.decode(c.streams.video[0])]


def events_of(src: Path, out: Path, model: str = "bt2408") -> list[dict]:
    """The events of a conversion (in-process: the CLI costs seconds of start-up per run)."""
    events: list[dict] = []
    convert(str(src), str(out), create(model), FAST, emit=events.append)
    return events


def warnings(events: list[dict]) -> list[str]:
    return [e["message"] for e in events if e["event"] == "warning"]


def test_irregular_timestamps_survive_exactly(tmp_path):
    # the clip: 24 fps, a second's pause after frame 24, every third frame 13 ms late
    src = tmp_path / "irregular.mkv"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=64x48:r=24:d=2", "-vf",
           "settb=1/1000,setpts='(N/24+if(gte(N,24),(N-24)/24,0)+0.013*mod(N,3))/TB'",
           "-fps_mode", "passthrough", "-enc_time_base", "1:1000", "-c:v", "libx264", "-preset", "ultrafast",
           str(src))
    out = tmp_path / "out.mkv"
    events = events_of(src, out)
    assert events[-1]["frames"] == 48 and not warnings(events)
    assert frame_times(out) == pytest.approx(frame_times(src), abs=1e-9)
    check_hdr10(out, src)


def test_24_and_30_fps_concatenation_keeps_both_rates(tmp_path):
    parts = []
    for rate in (24, 30):
        parts.append(tmp_path / f"part{rate}.mp4")
        ffmpeg("-f", "lavfi", "-i", f"testsrc2=s=64x48:r={rate}:d=0.5", "-c:v", "libx264", "-preset", "ultrafast",
               "-video_track_timescale", "90000", str(parts[-1]))
    (tmp_path / "list.txt").write_text("".join(f"file '{p}'\n" for p in parts))
    src = tmp_path / "joined.mp4"
    ffmpeg("-f", "concat", "-safe", "0", "-i", str(tmp_path / "list.txt"), "-c", "copy", str(src))
    out = tmp_path / "out.mp4"
    events_of(src, out)
    want, got = frame_times(src), frame_times(out)
    assert len(want) == len(got) == 27
    assert got == pytest.approx(want, abs=0.0005)  # the encoded video goes through Matroska's 1 ms
    assert got[-1] - got[-2] == pytest.approx(1 / 30, abs=0.001)
    check_hdr10(out, src)


def test_duplicate_timestamp_is_moved_with_a_warning(tmp_path):
    src = tmp_path / "dup.mkv"
    # frame 5 carries frame 4's timestamp
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=64x48:r=24:d=0.5", "-vf", "settb=1/1000,setpts='(N-eq(N,5))*0.042/TB'",
           "-fps_mode", "passthrough", "-enc_time_base", "1:1000", "-c:v", "libx264", "-preset", "ultrafast",
           "-bf", "0", str(src))
    out = tmp_path / "out.mkv"
    events = events_of(src, out)
    want = frame_times(src)
    assert len(want) == 12 and want[4] == want[5]
    assert frame_times(out) == pytest.approx(want[:5] + [want[5] + 0.001] + want[6:], abs=1e-9)
    assert events[-1]["frames"] == 12
    assert warnings(events) == ["1 frame(s) with the timestamp of the frame before them moved 1/1000 s later "
                                "(first at 0.168 s)"]
    check_hdr10(out, src)


def test_odd_size_warns_on_stderr_and_in_json(tmp_path):
    src = tmp_path / "odd.mkv"
    # flat: x265 ultrafast rings on testsrc's sharp edges beyond the MaxCLL check_hdr10 accepts
    ffmpeg("-f", "lavfi", "-i", "color=c=0x8090a0:s=641x359:r=24:d=0.125", "-c:v", "ffv1", "-pix_fmt", "yuv420p",
           str(src))
    message = "odd size 641x359: HEVC 4:2:0 needs even dimensions, the output is 640x358 (last column/row dropped)"
    out = tmp_path / "out.mkv"
    events = events_of(src, out)  # what --json prints, one object a line
    assert warnings(events) == [message] and events[-1]["frames"] == 3
    assert events[1] == {"event": "warning", "message": message}  # right after "start"
    with av.open(str(out)) as c:
        v = c.streams.video[0]
        assert (v.codec_context.width, v.codec_context.height) == (640, 358)
    check_hdr10(out, src)
    r = run("itm", str(src), str(tmp_path / "plain.mkv"), "--x265-preset", "ultrafast", "--model", "bt2408")
    assert r.returncode == 0, r.stderr
    assert f"hdrconv: warning: {message}" in r.stderr.splitlines()


@pytest.mark.parametrize("flags, suffix, want", [(("-display_rotation", "90"), ".mp4", (90.0, False)),
                                                 (("-display_rotation", "270", "-display_hflip"), ".mkv",
                                                  (270.0, True))])
def test_display_matrix_is_carried_and_probed(tmp_path, capsys, flags, suffix, want):
    plain = tmp_path / "p.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=64x48:r=24:d=0.25", "-c:v", "libx264", "-preset", "ultrafast",
           "-pix_fmt", "yuv420p", str(plain))
    src = tmp_path / "rotated.mp4"
    ffmpeg(*flags, "-i", str(plain), "-c", "copy", str(src))
    info = probe(str(src))
    assert (info.rotation, info.hflip) == want
    print_probe(info)
    assert f"turned {want[0]:g}° counter-clockwise" + (", mirrored" if want[1] else "") in capsys.readouterr().out
    out = tmp_path / f"out{suffix}"
    events_of(src, out)
    with av.open(str(out)) as c:
        v = c.streams.video[0]
        assert (v.codec_context.width, v.codec_context.height) == (64, 48)  # turned on display, not here
        assert display_matrix(next(c.decode(v))) == want
    assert frame_times(out) == pytest.approx(frame_times(src), abs=0.0005)  # Matroska counts milliseconds
    check_hdr10(out, src)


def test_second_video_and_cover_art_dropped_with_warnings_timecode_kept(tmp_path):
    cover = tmp_path / "cover.png"
    ffmpeg("-f", "lavfi", "-i", "color=red:s=32x32", "-frames:v", "1", str(cover))
    src = tmp_path / "many.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=64x48:r=24:d=0.25", "-f", "lavfi", "-i", "testsrc=s=32x24:r=24:d=0.25",
           "-i", str(cover), "-map", "0", "-map", "1", "-map", "2", "-c:v", "libx264", "-preset", "ultrafast",
           "-pix_fmt", "yuv420p", "-c:v:2", "png", "-disposition:v:2", "attached_pic",
           "-timecode", "01:00:00:00", str(src))
    out = tmp_path / "out.mp4"
    events = events_of(src, out)
    # ffmpeg writes a timecode track for each of the three video streams (2, 3, 4); the file's timecode
    # is kept, so one of them is in the output
    assert warnings(events) == [
        "video stream 1 (h264, second video track) dropped: the output has one video track, the converted one",
        *[f"data stream {i} (timecode track, 01:00:00:00) dropped: not carried to the output" for i in (3, 4)],
        "video stream 5 (png, cover art) dropped: the output has one video track, the converted one"]
    assert events[-1]["frames"] == 6 and events[-1]["warnings"] == warnings(events)
    with av.open(str(out)) as c:
        assert [(s.type, s.metadata.get("timecode")) for s in c.streams] == [("video", "01:00:00:00"), ("data", "01:00:00:00")]
    check_hdr10(out, src)


@pytest.mark.parametrize("suffix", [".mp4", ".mkv"])
def test_alpha_and_fonts_dropped_with_warnings(tmp_path, suffix):
    font = tmp_path / "font.ttf"
    font.write_bytes(bytes(range(256)) * 4)  # what the file holds does not matter to the muxers
    src = tmp_path / "alpha.mkv"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=64x48:r=24:d=0.25,format=yuva420p", "-c:v", "ffv1",
           "-attach", str(font), "-metadata:s:t", "mimetype=application/x-truetype-font", str(src))
    out = tmp_path / f"out{suffix}"
    events = events_of(src, out)
    alpha = "video stream 0 (yuva420p): its alpha (transparency) plane is dropped, HDR10 has none"
    fonts = "attachment 1 (font.ttf) dropped: MP4 cannot carry attachments (use .mkv to keep it)"
    assert warnings(events) == ([alpha, fonts] if suffix == ".mp4" else [alpha])
    with av.open(str(out)) as c:
        assert [s.type for s in c.streams] == (["video"] if suffix == ".mp4" else ["video", "attachment"])
    assert events[-1]["frames"] == 6
    check_hdr10(out, src)


def combing(rgb: torch.Tensor) -> float:
    """Mean distance of each row from the mean of its neighbours: large where two fields are woven."""
    return float((rgb[:, 1:-1] - (rgb[:, :-2] + rgb[:, 2:]) / 2).abs().mean())


@pytest.mark.parametrize("codec", ["libx264", "mpeg2video"])
def test_interlaced_input_is_deinterlaced_with_a_warning(tmp_path, capsys, codec):
    src = tmp_path / f"interlaced-{codec}.mkv"
    # a bar moving 2 pixels a field, 50 progressive frames a second woven into 25 interlaced ones: each
    # field shows it at another place, and only the weave makes rows differ
    ffmpeg("-f", "lavfi", "-i", "color=black:s=64x48:r=50:d=0.4[a];color=white:s=16x48:r=50:d=0.4[b];"
           "[a][b]overlay=x=8+t*100", "-vf", "tinterlace=interleave_top,setfield=tff",
           "-c:v", codec, *(("-preset", "ultrafast") if codec == "libx264" else ()), "-pix_fmt", "yuv420p",
           "-flags", "+ilme+ildct", str(src))
    info = probe(str(src))
    assert info.interlaced == "top field first"
    print_probe(info)
    assert "interlaced, top field first" in capsys.readouterr().out
    woven = [f.rgb for f in VideoDecoder(replace(info, interlaced=None))]
    deinterlaced = [f.rgb for f in VideoDecoder(info)]
    assert len(woven) == len(deinterlaced) == 10
    # measured: 0.0625 on every woven frame, 0.0 deinterlaced
    assert max(map(combing, deinterlaced)) < 0.25 * min(map(combing, woven))
    assert torch.equal(convert_frame(str(src), 0.2, create("bt2408")).sdr, deinterlaced[5])  # preview too
    out = tmp_path / "out.mkv"
    events = events_of(src, out)
    assert warnings(events) == ["interlaced video (top field first): deinterlaced with bwdif, one frame per frame"]
    assert events[-1]["frames"] == 10
    assert frame_times(out) == pytest.approx(frame_times(src), abs=0.0005)
    check_hdr10(out, src)



def test_cover_art_listed_first_is_not_what_is_converted():
    # iTunes-style MP4 may list the cover (moov/udta/covr) before the tracks; ffmpeg's muxers always
    # write it after them, so the order is built here
    art = SimpleNamespace(disposition=av.stream.Disposition.attached_pic)
    track = SimpleNamespace(disposition=av.stream.Disposition.default)
    assert video_stream(SimpleNamespace(streams=SimpleNamespace(video=[art, track]))) is track
    assert video_stream(SimpleNamespace(streams=SimpleNamespace(video=[art]))) is art
