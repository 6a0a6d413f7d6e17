"""Decode SDR video with PyAV into the model input domain: BT.709 R'G'B' in [0, 1] as float32 tensors.

swscale only brings the chroma to full resolution (``yuv444p16le``, which it fills with the code values
shifted left, exactly); Y'CbCr -> R'G'B' then applies colour-science's matrix and offsets for the
matrix, range and bit depth resolved by :func:`hdrconv.io.probe.colour_info`. (swscale's own RGB
output is not exact: it maps 8-bit white to 65280/65535.) Chroma is upsampled bilinearly. Sources with BT.601 or BT.2020
primaries are converted to BT.709 in linear light (BT.1886), clipping what lies outside BT.709.

Interlaced video (:attr:`MediaInfo.interlaced`) is deinterlaced with FFmpeg's ``bwdif`` through PyAV's
filter graph, one frame out per frame in (``mode=send_frame``): every frame keeps its timestamp and the
output its frame rate (field rate would double the frames to encode); ``deint=interlaced`` leaves the
frames flagged progressive in mixed streams untouched. Converting the fields woven together would put
combing into every moving edge, and the model would expand it.

Odd widths/heights: HEVC 4:2:0 needs even dimensions and its cropping window cannot remove a single
luma column, so the last column and/or row is dropped here, before the model and before the light
levels are measured.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from fractions import Fraction
from typing import Iterable, Iterator

import av
import numpy as np
import torch
from av.video.reformatter import Interpolation

from hdrconv.color._colour import colour
from hdrconv.color.conventions import SDR_COLOURSPACE
from hdrconv.color.gamut import RGB_to_RGB, apply_matrix
from hdrconv.color.transfer import eotf_BT1886, eotf_inverse_BT1886
from hdrconv.errors import InputDataError
from hdrconv.io.probe import MediaInfo, open_container

log = logging.getLogger("hdrconv")

_WEIGHTS = {"bt709": "ITU-R BT.709", "bt601": "ITU-R BT.601", "bt2020nc": "ITU-R BT.2020",
            "bt2020c": "ITU-R BT.2020", "smpte240m": "SMPTE-240M", "fcc": "ITU-R BT.601"}
_COLOURSPACES = {"bt470bg": "EBU Tech. 3213-E", "smpte170m": "SMPTE C", "bt2020": "ITU-R BT.2020"}


@dataclass
class DecodedFrame:
    index: int
    pts: int | None
    time_base: Fraction
    rgb: torch.Tensor
    """(3, H, W) float32 BT.709 R'G'B' in [0, 1]."""


class VideoDecoder:
    """Iterate over the decoded frames of the first video stream of ``info.path``.

    After iteration, :attr:`decoded` is the frame count, :attr:`span` the time from the first frame's
    start to the last frame's end (seconds) and :attr:`bad_packets` the number of packets the decoder
    rejected (skipped, so one damaged packet does not end the conversion).
    """

    def __init__(self, info: MediaInfo, container: av.container.InputContainer | None = None):
        self.info = info
        self._container = container
        self.decoded = 0
        self.bad_packets = 0
        self.span = 0.0
        self.width = info.width - info.width % 2
        self.height = info.height - info.height % 2
        c = info.colour
        bits = info.bit_depth
        m = colour.matrix_YCbCr(K=colour.WEIGHTS_YCBCR[_WEIGHTS.get(c.matrix_used, "ITU-R BT.709")], bits=bits,
                                is_legal=c.range_used == "tv", is_int=True)
        offset = colour.offset_YCbCr(bits=bits, is_legal=c.range_used == "tv", is_int=True)
        # codes arrive shifted to 16 bits; fold the shift and the offsets into one affine map
        shift = 2.0 ** (bits - 16)
        self._matrix = torch.tensor(m * shift, dtype=torch.float32)
        self._bias = torch.tensor(-(m @ offset), dtype=torch.float32).view(3, 1, 1)
        self._sws = dict(format="yuv444p16le", interpolation=Interpolation.BILINEAR | Interpolation.ACCURATE_RND)
        self._primaries = _COLOURSPACES.get(c.primaries_used)
        self._ycbcr: np.ndarray | None = None

    def __iter__(self) -> Iterator[DecodedFrame]:
        c = self._container or open_container(self.info.path)
        try:
            v = c.streams[self.info.video_index]
            v.thread_type = "AUTO"
            deinterlace = _Deinterlacer(v) if self.info.interlaced else None
            for packet in c.demux(v):  # the last, empty packet flushes the decoder
                try:
                    frames = v.decode(packet)
                except av.error.InvalidDataError:
                    self.bad_packets += 1
                    continue
                except av.error.FFmpegError as e:
                    raise InputDataError(f"{self.info.path}: decoding failed after {self.decoded} "
                                         f"frames ({e.strerror or e})") from None
                if deinterlace is not None:
                    frames = [out for f in frames for out in deinterlace(f)]
                    if packet.size == 0:
                        frames += deinterlace(None)
                for frame in frames:
                    self._extend_span(frame, v)
                    yield DecodedFrame(self.decoded, frame.pts, frame.time_base or v.time_base,
                                       self.to_rgb(frame))
                    self.decoded += 1
        finally:
            if self._container is None:
                c.close()

    def _extend_span(self, frame: av.VideoFrame, stream) -> None:
        if frame.pts is None:
            return
        tb = frame.time_base or stream.time_base
        if self.decoded == 0:
            self._first_pts = frame.pts
        end = (frame.pts - self._first_pts) * tb + (frame.duration * tb if frame.duration else 1 / self.info.fps)
        self.span = max(self.span, float(end))

    def to_signal(self, frame: av.VideoFrame) -> torch.Tensor:
        """One decoded frame -> (3, H, W) float32 R'G'B' in [0, 1], in the stream's own primaries and
        transfer function (for HDR10: PQ-coded BT.2020)."""
        f = frame.reformat(**self._sws)
        if self._ycbcr is None:  # reused: only the result leaves this method
            self._ycbcr = np.empty((3, self.height, self.width), np.float32)
        for dst, p in zip(self._ycbcr, f.planes):
            np.copyto(dst, np.frombuffer(p, np.uint16).reshape(p.height, p.line_size // 2)[: self.height, : self.width])
        return apply_matrix(self._matrix, torch.from_numpy(self._ycbcr)).add_(self._bias).clamp_(0, 1)

    def to_rgb(self, frame: av.VideoFrame) -> torch.Tensor:
        """One decoded SDR frame -> (3, H, W) float32 BT.709 R'G'B' in [0, 1]."""
        rgb = self.to_signal(frame)
        if self._primaries is not None:
            lin = RGB_to_RGB(eotf_BT1886(rgb), self._primaries, SDR_COLOURSPACE)
            rgb = eotf_inverse_BT1886(lin.clamp_(0, 1))
        return rgb


def deinterlaced(frames: Iterable[av.VideoFrame], stream: av.video.stream.VideoStream) -> Iterator[av.VideoFrame]:
    """``frames`` of ``stream`` deinterlaced as :class:`VideoDecoder` does (for callers that decode
    themselves: ``hdrconv preview``)."""
    deinterlace = _Deinterlacer(stream)
    for f in frames:
        yield from deinterlace(f)
    yield from deinterlace(None)


class _Deinterlacer:
    """``bwdif`` in a PyAV filter graph: frames in, deinterlaced frames out (one frame late; ``None``
    flushes the last)."""

    def __init__(self, stream: av.video.stream.VideoStream):
        self._graph = av.filter.Graph()
        source = self._graph.add_buffer(template=stream)
        bwdif = self._graph.add("bwdif", "mode=send_frame:parity=auto:deint=interlaced")
        source.link_to(bwdif)
        bwdif.link_to(self._graph.add("buffersink"))
        self._graph.configure()

    def __call__(self, frame: av.VideoFrame | None) -> list[av.VideoFrame]:
        self._graph.vpush(frame)
        out = []
        while True:
            try:
                out.append(self._graph.vpull())
            except (av.error.BlockingIOError, av.error.EOFError):
                return out
