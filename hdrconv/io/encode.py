"""Encode HDR10 with ffmpeg (libx265 Main 10) and mux the source's other streams beside it.

Two ffmpeg runs, both built as argument lists with ffmpeg-python:

1. :class:`HevcEncoder` reads the frames from a NUT pipe (NUT keeps every frame's timestamp, so
   variable frame rate survives; a raw pipe would not), converts linear BT.2020 RGB to PQ Y'CbCr
   BT.2020 NCL limited range 4:2:0 10-bit in zscale, and encodes with x265 into a video-only file.
   The frames arrive as planar float16 in cd/m2 (zscale ``npl=1``: linear 1.0 is 1 cd/m2): half the
   pipe traffic of float32; its relative precision (2^-11) is ~20x finer than a 10-bit PQ step.
2. :func:`remux` writes the final file: the encoded video, then audio, subtitles, chapters, metadata
   and stream languages from the source, with the ST 2086 mastering display and the measured
   MaxCLL/MaxFALL at container level (Matroska Colour, MP4 ``mdcv``/``clli``).
"""

from __future__ import annotations

import collections
import os
import subprocess
import threading
from dataclasses import dataclass, field
from fractions import Fraction

import av
import ffmpeg
import imageio_ffmpeg
import torch

from hdrconv.color.conventions import ContentLightLevel, MasteringDisplay
from hdrconv.errors import IOFailure
from hdrconv.io.hdr_metadata import PLACEHOLDER
from hdrconv.io.probe import MediaInfo

FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()

X265_MIN_SIZE = 16
"""The smallest width and height x265 encodes: tried with the bundled ffmpeg (libx265, presets
ultrafast, medium, veryslow), 16x16, 4000x16 and 16x2000 encode; 14x16, 16x14 and 8x8 end with
"Image size is too small" (hidden by our log level) and ffmpeg's "Nothing was written"."""

# what MP4 can carry as-is; other audio is re-encoded to AAC, other text subtitles become mov_text
MP4_AUDIO = {"aac", "mp3", "ac3", "eac3", "opus", "flac", "alac"}
TEXT_SUBTITLES = {"subrip", "srt", "ass", "ssa", "webvtt", "mov_text", "text"}


@dataclass
class EncodeSettings:
    """x265 settings of one conversion (presets and flags fill these)."""

    crf: float = 18.0
    preset: str = "medium"
    x265_params: dict[str, str] = field(default_factory=dict)
    mastering: MasteringDisplay = field(default_factory=MasteringDisplay)

    def x265_param_string(self) -> str:
        params = {
            "repeat-headers": "1",
            "hdr10": "1",
            "hdr10-opt": "1",
            "colorprim": "bt2020",
            "transfer": "smpte2084",
            "colormatrix": "bt2020nc",
            "range": "limited",
            "master-display": self.mastering.x265(),
            "max-cll": f"{PLACEHOLDER.max_cll},{PLACEHOLDER.max_fall}",
            "log-level": "error",
        }
        params.update(self.x265_params)
        return ":".join(f"{k}={v}" for k, v in params.items())


class _StderrTail(threading.Thread):
    """Drain a process's stderr (so it never blocks) and keep its last lines for error messages."""

    def __init__(self, stream):
        super().__init__(daemon=True)
        self.stream = stream
        self.lines: collections.deque[str] = collections.deque(maxlen=20)

    def run(self):
        for raw in iter(self.stream.readline, b""):
            line = raw.decode("utf-8", "replace").strip()
            if line:
                self.lines.append(line)

    def last_error(self) -> str:
        return self.lines[-1] if self.lines else "no message"


def _grow_pipe(pipe) -> None:
    """Enlarge a pipe's kernel buffer (Linux): a 1080p frame is 24 MB, and with the default 64 KiB
    every frame costs hundreds of writer/reader wake-ups."""
    try:
        import fcntl

        fcntl.fcntl(pipe.fileno(), getattr(fcntl, "F_SETPIPE_SZ", 1031), 1 << 20)
    except (ImportError, OSError):
        pass


class HevcEncoder:
    """Stage 1: frames in (linear BT.2020 cd/m2), HEVC Main 10 HDR10 video-only Matroska out."""

    def __init__(self, path: str, width: int, height: int, time_base: Fraction, rate: Fraction,
                 settings: EncodeSettings):
        self.path = path
        self.width, self.height = width, height
        self.time_base, self.rate = time_base, rate
        self.settings = settings
        self.frames = 0
        self._proc: subprocess.Popen | None = None

    def args(self) -> list[str]:
        s, tb = self.settings, self.time_base
        video = (ffmpeg.input("pipe:0", format="nut")
                 .video.filter("zscale", tin="linear", pin="bt2020", npl=1, p="bt2020",
                               t="smpte2084", m="bt2020nc", r="tv")
                 .filter("format", "yuv420p10le"))
        out = ffmpeg.output(video, os.path.abspath(self.path), format="matroska", vcodec="libx265", preset=s.preset,
                            crf=s.crf, pix_fmt="yuv420p10le", color_primaries="bt2020",
                            color_trc="smpte2084", colorspace="bt2020nc", color_range="tv",
                            fps_mode="passthrough", enc_time_base=f"{tb.numerator}:{tb.denominator}",
                            **{"x265-params": s.x265_param_string()})
        return ffmpeg.compile(out.global_args("-hide_banner", "-loglevel", "error", "-copyts"),
                              cmd=FFMPEG, overwrite_output=True)

    def start(self) -> None:
        self._proc = subprocess.Popen(self.args(), stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.PIPE, start_new_session=True)
        _grow_pipe(self._proc.stdin)
        self._stderr = _StderrTail(self._proc.stderr)
        self._stderr.start()
        self._mux = av.open(self._proc.stdin, "w", format="nut")
        s = self._mux.add_stream("rawvideo", rate=self.rate)
        s.width, s.height, s.pix_fmt = self.width, self.height, "gbrpf16le"
        s.time_base = self.time_base
        self._mux.start_encoding()
        self._stream = s
        self._gbr = torch.empty((3, self.height, self.width), dtype=torch.float16)

    def write(self, rgb_nits: torch.Tensor, pts: int, duration: int | None) -> None:
        """Hand one frame, ``(3, H, W)`` linear BT.2020 R, G, B in cd/m2 (0 to 10000), to the encoder.

        Raw video packets are built directly (planar G, B, R, no padding): a VideoFrame plus the
        rawvideo encoder would copy the 24 MB of a 1080p frame once more.
        """
        for dst, channel in zip(self._gbr, (1, 2, 0)):
            dst.copy_(rgb_nits[channel])  # torch converts to float16 ~20x faster than numpy
        packet = av.Packet(self._gbr.numpy())
        packet.stream = self._stream
        packet.time_base = self.time_base
        packet.pts = packet.dts = pts
        if duration:
            packet.duration = duration
        try:
            self._mux.mux(packet)
        except (BrokenPipeError, OSError, av.error.FFmpegError):
            raise IOFailure(f"encoder stopped: {self._failure()}") from None
        self.frames += 1

    def _failure(self) -> str:
        if self._proc is not None and self._proc.poll() is None:
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        return self._stderr.last_error()

    def finish(self) -> None:
        """Flush and wait for ffmpeg; raise :class:`IOFailure` with its message if it failed."""
        try:
            self._mux.close()
            self._proc.stdin.close()
        except (BrokenPipeError, OSError, av.error.FFmpegError):
            raise IOFailure(f"encoder stopped: {self._failure()}") from None
        rc = self._proc.wait()
        self._stderr.join(timeout=5)
        if rc != 0:
            raise IOFailure(f"encoder failed (ffmpeg exit {rc}): {self._stderr.last_error()}")

    def abort(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()


def _subtitle_plan(info: MediaInfo, container: str) -> tuple[list[str], dict[str, str], list[str]]:
    """Which subtitle streams to map, their codecs, and warnings for the dropped ones."""
    maps, codecs, warnings = [], {}, []
    for s in (s for s in info.streams if s.type == "subtitle"):
        text = s.codec in TEXT_SUBTITLES
        if container == "mp4" and not text:
            warnings.append(f"subtitle stream {s.index} ({s.codec}) is a bitmap format MP4 cannot carry; "
                            "dropped (use .mkv to keep it)")
            continue
        out_index = len(maps)
        maps.append(f"1:{s.index}")
        if container == "mp4":
            codecs[f"c:s:{out_index}"] = "mov_text"
        else:
            codecs[f"c:s:{out_index}"] = "srt" if s.codec == "mov_text" else "copy"
    return maps, codecs, warnings


def _dropped_streams(info: MediaInfo, container: str) -> list[str]:
    """Warnings for the streams stage 2 does not map (subtitles are :func:`_subtitle_plan`'s)."""
    converted = info.streams[info.video_index]
    carried = next((s for s in info.streams if s.type == "data" and s.timecode and s.timecode == info.timecode), None)
    warnings = []
    if info.alpha:
        warnings.append(f"video stream {converted.index} ({info.pix_fmt}): its alpha (transparency) plane is "
                        "dropped, HDR10 has none")
    for s in info.streams:
        if s.type == "video" and s is not converted:
            what = "cover art" if s.attached_pic else "second video track"
            warnings.append(f"video stream {s.index} ({s.codec}, {what}) dropped: the output has one video track, "
                            "the converted one")
        elif s.type == "data" and s is not carried:
            what = f"timecode track, {s.timecode}" if s.timecode else "data"
            warnings.append(f"data stream {s.index} ({what}) dropped: not carried to the output")
        elif s.type == "attachment" and container == "mp4":
            warnings.append(f"attachment {s.index} ({s.filename or s.codec}) dropped: MP4 cannot carry attachments "
                            "(use .mkv to keep it)")
        elif s.type not in ("video", "audio", "subtitle", "attachment", "data"):
            warnings.append(f"stream {s.index} ({s.type}) dropped: not carried to the output")
    return warnings


def remux_args(video: str, info: MediaInfo, out: str, container: str, cll: ContentLightLevel,
               mastering: MasteringDisplay) -> tuple[list[str], list[str]]:
    """ffmpeg arguments of stage 2 and the warnings to show (streams converted or dropped).

    Written as a plain list: ffmpeg-python leaves out an input none of whose streams is mapped, and the
    source must stay an input for its chapters and metadata even when it has no other stream.
    """
    warnings = []
    args = [FFMPEG, "-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-copyts",
            "-mastering_display", mastering.x265(), "-content_light", f"{cll.max_cll},{cll.max_fall}"]
    if info.rotation or info.hflip:  # the source's display matrix, carried: the frames are not turned
        args += ["-display_rotation", f"{info.rotation:g}"] + (["-display_hflip"] if info.hflip else [])
    args += ["-i", os.path.abspath(video), "-i", os.path.abspath(info.path), "-map", "0:v:0", "-c:v", "copy",
            "-map_metadata", "1", "-map_chapters", "1"]
    audio = [s for s in info.streams if s.type == "audio"]
    for i, s in enumerate(audio):
        args += ["-map", f"1:{s.index}"]
        if container == "mp4" and s.codec not in MP4_AUDIO:
            args += [f"-c:a:{i}", "aac", f"-b:a:{i}", "256k"]
            warnings.append(f"audio stream {s.index} ({s.codec}) cannot go into MP4 as-is; re-encoded to AAC")
        else:
            args += [f"-c:a:{i}", "copy"]
    sub_maps, sub_codecs, sub_warnings = _subtitle_plan(info, container)
    for m in sub_maps:
        args += ["-map", m]
    for k, v in sub_codecs.items():
        args += [f"-{k}", v]
    warnings += sub_warnings + _dropped_streams(info, container)
    if container == "mp4":
        args += ["-tag:v", "hvc1", "-movflags", "+faststart", "-f", "mp4"]
    else:
        if any(s.type == "attachment" for s in info.streams):
            args += ["-map", "1:t", "-c:t", "copy"]
        args += ["-f", "matroska"]
    return args + ["pipe:1" if out == "-" else os.path.abspath(out)], warnings


def remux(video: str, info: MediaInfo, out: str, container: str, cll: ContentLightLevel,
          mastering: MasteringDisplay) -> list[str]:
    """Run stage 2 (``out`` ``-``: Matroska to standard output); return the warnings about converted or
    dropped streams."""
    args, warnings = remux_args(video, info, out, container, cll, mastering)
    r = subprocess.run(args, stdin=subprocess.DEVNULL, stdout=None if out == "-" else subprocess.DEVNULL,
                       stderr=subprocess.PIPE)
    if r.returncode != 0:
        lines = r.stderr.decode("utf-8", "replace").strip().splitlines() or ["no message"]
        raise IOFailure(f"muxing failed (ffmpeg exit {r.returncode}): {lines[-1]}")
    return warnings
