"""What the tool sees in an input file: streams, geometry, timing, colour tags, SDR/HDR verdict.

Colour tags use the ITU-T H.273 code points that FFmpeg stores. Untagged video follows the players'
convention (mpv, VLC, browsers): height >= 720 is BT.709, smaller is BT.601.
"""

from __future__ import annotations

import errno
import math
import os
import struct
from dataclasses import asdict, dataclass, field
from fractions import Fraction

import av

from hdrconv.errors import InputDataError, InputMissingError

# FFmpeg's AVFieldOrder -> which field comes first (TB/BT: coded in one order, shown in the other)
FIELD_ORDERS = {2: "top field first", 3: "bottom field first", 4: "top field first", 5: "bottom field first"}

# ITU-T H.273 code points -> FFmpeg's names
PRIMARIES = {1: "bt709", 2: "unknown", 4: "bt470m", 5: "bt470bg", 6: "smpte170m", 7: "smpte240m",
             8: "film", 9: "bt2020", 10: "smpte428", 11: "smpte431", 12: "smpte432", 22: "ebu3213"}
TRANSFERS = {1: "bt709", 2: "unknown", 4: "gamma22", 5: "gamma28", 6: "smpte170m", 7: "smpte240m",
             8: "linear", 13: "iec61966-2-1", 14: "bt2020-10", 15: "bt2020-12", 16: "smpte2084",
             18: "arib-std-b67"}
MATRICES = {0: "gbr", 1: "bt709", 2: "unknown", 4: "fcc", 5: "bt470bg", 6: "smpte170m", 7: "smpte240m",
            9: "bt2020nc", 10: "bt2020c"}
RANGES = {0: "unknown", 1: "tv", 2: "pc"}

HDR_TRANSFERS = {"smpte2084", "arib-std-b67"}
HDR_SIDE_DATA = {"MASTERING_DISPLAY_METADATA", "CONTENT_LIGHT_LEVEL", "DOVI_METADATA",
                 "DYNAMIC_HDR_PLUS", "DYNAMIC_HDR_VIVID"}


@dataclass
class ColourInfo:
    """Colour interpretation of the video stream: tags as found, and the decision taken."""

    primaries: str
    transfer: str
    matrix: str
    range: str
    matrix_used: str
    """Matrix actually used to decode (``bt709``/``bt601``/``bt2020nc``...), after the untagged rule."""
    primaries_used: str
    range_used: str
    decision: str
    """Human-readable account of how untagged values were resolved (printed in verbose mode)."""


@dataclass
class StreamInfo:
    index: int
    type: str
    codec: str
    language: str | None = None
    title: str | None = None
    filename: str | None = None
    """An attachment's file name (Matroska fonts)."""
    attached_pic: bool = False
    """A picture shown for the file (cover art), not a video track."""
    timecode: str | None = None
    """The start timecode of a timecode track (MP4/QuickTime ``tmcd``)."""


@dataclass
class MediaInfo:
    path: str
    format: str
    duration: float | None
    width: int
    height: int
    fps: float
    frame_rate: Fraction = field(repr=False)
    frames_expected: int | None
    """Frame count for progress: the header's, else duration x rate."""
    frames_header: int | None
    """Exact frame count written in the header (MP4 does, Matroska does not)."""
    video_duration: float | None
    """Duration of the video stream itself, from the header (seconds)."""
    pix_fmt: str
    bit_depth: int
    colour: ColourInfo
    hdr: bool
    hdr_reason: str | None
    streams: list[StreamInfo]
    rotation: float = 0.0
    """Display matrix of the video: degrees the picture is turned counter-clockwise for display, as
    ffmpeg's ``-display_rotation``, which with :attr:`hflip` (``-display_hflip``) rebuilds the matrix."""
    hflip: bool = False
    """The display matrix mirrors the picture left to right (ffmpeg's ``-display_hflip``)."""
    alpha: bool = False
    """The video has an alpha (transparency) plane."""
    interlaced: str | None = None
    """``"top field first"`` or ``"bottom field first"`` for interlaced video (the stream's field order,
    or the first frame's flag where the field order is unknown), else ``None``."""
    video_index: int = 0
    """Index (among all streams) of the video stream converted, :func:`video_stream`."""
    timecode: str | None = None
    """The file's start timecode (global metadata): the remux's ``-map_metadata`` carries it, and the MP4
    muxer writes a timecode track for it."""

    def to_dict(self) -> dict:
        d = asdict(self)
        d.pop("frame_rate")
        d["verdict"] = "HDR" if self.hdr else "SDR"
        return d


def check_input(path: str) -> None:
    """What the file system says about the input file ``path``: it exists, is no folder, can be read,
    and is not empty (a pipe is never called empty: it has no size before it is read)."""
    if not os.path.exists(path):
        raise InputMissingError(f"{path}: no such file")
    if os.path.isdir(path):
        raise InputMissingError(f"{path}: is a directory, not a video file")
    if not os.access(path, os.R_OK):
        raise InputMissingError(f"{path}: permission denied")
    if os.path.isfile(path) and os.path.getsize(path) == 0:
        raise InputDataError(f"{path}: file is empty (0 bytes)")


def open_container(path: str) -> av.container.InputContainer:
    """Open ``path`` for reading, mapping every failure to a one-line error with the right exit code."""
    if path != "-":
        check_input(path)
    try:
        # an absolute path can't be taken for an option ("-x.mp4") or a protocol ("http:x.mp4")
        return av.open(os.path.abspath(path) if path != "-" else "pipe:0", "r")
    except av.error.FileNotFoundError:
        raise InputMissingError(f"{path}: no such file") from None
    except av.error.PermissionError:
        raise InputMissingError(f"{path}: permission denied") from None
    except (av.error.InvalidDataError, av.error.EOFError):
        raise InputDataError(f"{path}: not a video file FFmpeg can read (unknown format or corrupt)") from None
    except av.error.FFmpegError as e:
        if getattr(e, "errno", None) in (errno.EIO,):
            raise InputMissingError(f"{path}: cannot read: {e.strerror}") from None
        raise InputDataError(f"{path}: cannot open: {e.strerror or e}") from None


def _bit_depth(fmt: av.VideoFormat | None) -> int:
    if fmt is None:
        return 8
    return max((c.bits for c in fmt.components), default=8)


def colour_info(stream: av.video.stream.VideoStream, frame: av.VideoFrame | None) -> ColourInfo:
    """Resolve the stream's colour tags; untagged values follow the players' convention."""
    src = frame if frame is not None else stream.codec_context
    prim = PRIMARIES.get(int(src.color_primaries), "unknown")
    trc = TRANSFERS.get(int(src.color_trc), "unknown")
    mat = MATRICES.get(int(src.colorspace), "unknown")
    rng = RANGES.get(int(src.color_range), "unknown")
    height = stream.codec_context.height
    notes = []
    if mat in ("bt709", "bt2020nc", "bt2020c", "smpte240m", "fcc"):
        mat_used = mat
    elif mat in ("bt470bg", "smpte170m"):
        mat_used = "bt601"
    else:
        mat_used = "bt709" if height >= 720 else "bt601"
        notes.append(f"matrix untagged, {height} lines -> {mat_used}")
    if prim in ("bt709", "bt470bg", "smpte170m", "bt2020"):
        prim_used = prim
    else:
        prim_used = "bt709" if height >= 720 else ("bt470bg" if height in (576, 288) else "smpte170m")
        notes.append(f"primaries {prim} -> {prim_used}")
    if rng in ("tv", "pc"):
        rng_used = rng
    else:
        rng_used = "pc" if (stream.format and stream.format.name.startswith("yuvj")) else "tv"
        notes.append(f"range untagged -> {rng_used}")
    if trc not in ("bt709", "smpte170m", "bt2020-10", "bt2020-12", "iec61966-2-1", "gamma22", "unknown"):
        notes.append(f"transfer {trc} decoded as BT.1886")
    decision = "; ".join(notes) if notes else "all colour tags present"
    return ColourInfo(prim, trc, mat, rng, mat_used, prim_used, rng_used, decision)


def hdr_verdict(colour: ColourInfo, frame: av.VideoFrame | None) -> str | None:
    """Why the input is HDR (``None`` when it is SDR)."""
    if colour.transfer in HDR_TRANSFERS:
        return f"transfer is {colour.transfer} ({'PQ' if colour.transfer == 'smpte2084' else 'HLG'})"
    if frame is not None:
        for sd in frame.side_data:
            name = str(sd.type).split(".")[-1]
            if name in HDR_SIDE_DATA:
                return f"it carries HDR side data ({name.lower()})"
    return None


def display_matrix(frame: av.VideoFrame | None) -> tuple[float, bool]:
    """The frame's display matrix as ffmpeg's ``-display_rotation`` and ``-display_hflip``: the angle in
    degrees and whether the picture is mirrored (``(0.0, False)`` without a matrix).

    FFmpeg's matrix (libavutil/display.h, 16.16 fixed point, row major) for rotation θ is
    ``[[cos θ, -sin θ], [sin θ, cos θ]]``; mirroring negates its first column, which makes the
    determinant negative. A vertical flip is a mirror turned 180°.
    """
    for sd in frame.side_data if frame is not None else ():
        if str(sd.type).split(".")[-1] == "DISPLAYMATRIX":
            a, b, _, c, d, *_ = struct.unpack("<9i", bytes(sd)[:36])
            hflip = a * d - b * c < 0
            if hflip:
                a, c = -a, -c
            return round(math.degrees(math.atan2(c, a)), 2) % 360, hflip
    return 0.0, False


def _tag_seconds(tag: str | None) -> float | None:
    """Matroska's per-stream ``DURATION`` tag (``HH:MM:SS.nnnnnnnnn``) in seconds."""
    try:
        h, m, sec = tag.split(":")
        return int(h) * 3600 + int(m) * 60 + float(sec)
    except (AttributeError, ValueError):
        return None


def video_stream(c: av.container.InputContainer) -> av.video.stream.VideoStream:
    """The video to convert: the first video stream that is not a picture attached to the file (cover
    art, which MP4 and Matroska may list first), else the first video stream."""
    return next((s for s in c.streams.video if not s.disposition & av.stream.Disposition.attached_pic),
                c.streams.video[0])


def probe(path: str, decode_first: bool = True) -> MediaInfo:
    """Inspect ``path``; raise :class:`InputDataError` if it has no decodable video."""
    with open_container(path) as c:
        return _probe_container(c, path, decode_first)


def _probe_container(c: av.container.InputContainer, path: str, decode_first: bool) -> MediaInfo:
    if not c.streams.video:
        kinds = sorted({s.type for s in c.streams}) or ["no streams"]
        raise InputDataError(f"{path}: no video stream (has {', '.join(kinds)})")
    v = video_stream(c)
    frame = None
    if decode_first:
        try:
            frame = next(c.decode(v), None)
        except av.error.FFmpegError as e:
            raise InputDataError(f"{path}: video stream cannot be decoded ({e.strerror or e})") from None
        if frame is None:
            raise InputDataError(f"{path}: video stream has no decodable frames")
    cc = v.codec_context
    rate = v.average_rate or v.guessed_rate or v.base_rate or Fraction(25)
    duration = float(c.duration / av.time_base) if c.duration else (
        float(v.duration * v.time_base) if v.duration else None)
    video_duration = float(v.duration * v.time_base) if v.duration else _tag_seconds(v.metadata.get("DURATION"))
    expected = v.frames or (round((video_duration or duration) * rate) if (video_duration or duration) else None)
    colour = colour_info(v, frame)
    reason = hdr_verdict(colour, frame)
    streams = [StreamInfo(s.index, s.type, s.codec_context.name if s.codec_context else "?",
                          s.metadata.get("language"), s.metadata.get("title"), s.metadata.get("filename"),
                          bool(s.disposition & av.stream.Disposition.attached_pic),
                          s.metadata.get("timecode") if s.type == "data" else None) for s in c.streams]
    fmt = frame.format if frame is not None else v.format
    rotation, hflip = display_matrix(frame)
    return MediaInfo(path=path, format=c.format.name, duration=duration,
                     width=frame.width if frame is not None else cc.width,
                     height=frame.height if frame is not None else cc.height,
                     fps=float(rate), frame_rate=Fraction(rate), frames_expected=expected,
                     frames_header=v.frames or None, video_duration=video_duration,
                     pix_fmt=fmt.name if fmt else "?", bit_depth=_bit_depth(fmt), colour=colour,
                     hdr=reason is not None, hdr_reason=reason, streams=streams, rotation=rotation, hflip=hflip,
                     alpha=fmt is not None and any(comp.is_alpha for comp in fmt.components),
                     video_index=v.index, timecode=c.metadata.get("timecode"), interlaced=FIELD_ORDERS.get(
                         cc.field_order, "top field first" if frame is not None and frame.interlaced_frame else None))
