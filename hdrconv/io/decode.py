"""Decode SDR video with PyAV into the model input domain: BT.709 R'G'B' in [0, 1] as float32 tensors.

Y'CbCr -> R'G'B' runs in swscale (16-bit planar output, so 10-bit sources keep their precision) with
the matrix and range resolved by :func:`hdrconv.io.probe.colour_info`. Sources with BT.601 or BT.2020
primaries are converted to BT.709 in linear light (BT.1886), clipping what lies outside BT.709.

Odd widths/heights: HEVC 4:2:0 needs even dimensions and its cropping window cannot remove a single
luma column, so the last column and/or row is dropped here, before the model and before the light
levels are measured.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from fractions import Fraction
from typing import Iterator

import av
import numpy as np
import torch
from av.video.reformatter import ColorRange, Interpolation

from hdrconv.color.conventions import SDR_COLOURSPACE
from hdrconv.color.gamut import RGB_to_RGB
from hdrconv.color.transfer import eotf_BT1886, eotf_inverse_BT1886
from hdrconv.errors import InputDataError
from hdrconv.io.probe import MediaInfo, open_container

log = logging.getLogger("hdrconv")

_SWS_MATRIX = {"bt709": "itu709", "bt601": "smpte170m", "bt2020nc": "bt2020", "bt2020c": "bt2020",
               "smpte240m": "smpte240m", "fcc": "fcc"}
_SWS_RANGE = {"tv": ColorRange.MPEG, "pc": ColorRange.JPEG}
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

    After iteration, :attr:`decoded` is the frame count and :attr:`bad_packets` the number of packets
    the decoder rejected (skipped, so one damaged packet does not end the conversion).
    """

    def __init__(self, info: MediaInfo, container: av.container.InputContainer | None = None):
        self.info = info
        self._container = container
        self.decoded = 0
        self.bad_packets = 0
        self.width = info.width - info.width % 2
        self.height = info.height - info.height % 2
        c = info.colour
        self._sws = dict(format="gbrp16le", src_colorspace=_SWS_MATRIX.get(c.matrix_used, "itu709"),
                         src_color_range=_SWS_RANGE[c.range_used],
                         interpolation=Interpolation.BILINEAR | Interpolation.ACCURATE_RND
                         | Interpolation.FULL_CHR_H_INT)
        self._primaries = _COLOURSPACES.get(c.primaries_used)

    def __iter__(self) -> Iterator[DecodedFrame]:
        c = self._container or open_container(self.info.path)
        try:
            v = c.streams.video[0]
            v.thread_type = "AUTO"
            for packet in c.demux(v):
                try:
                    frames = v.decode(packet)
                except av.error.InvalidDataError:
                    self.bad_packets += 1
                    continue
                except av.error.FFmpegError as e:
                    raise InputDataError(f"{self.info.path}: decoding failed after {self.decoded} "
                                         f"frames ({e.strerror or e})") from None
                for frame in frames:
                    yield DecodedFrame(self.decoded, frame.pts, frame.time_base or v.time_base,
                                       self.to_rgb(frame))
                    self.decoded += 1
        finally:
            if self._container is None:
                c.close()

    def to_rgb(self, frame: av.VideoFrame) -> torch.Tensor:
        """One decoded frame -> (3, H, W) float32 BT.709 R'G'B' in [0, 1]."""
        f = frame.reformat(**self._sws)
        planes = [np.frombuffer(p, np.uint16).reshape(p.height, p.line_size // 2)[: self.height, : self.width]
                  for p in f.planes]
        rgb = torch.empty(3, self.height, self.width)
        out = rgb.numpy()
        for i, plane in enumerate((planes[2], planes[0], planes[1])):  # planar order is G, B, R
            np.multiply(plane, np.float32(1 / 65535), out=out[i])
        if self._primaries is not None:
            lin = RGB_to_RGB(eotf_BT1886(rgb), self._primaries, SDR_COLOURSPACE)
            rgb = eotf_inverse_BT1886(lin.clamp_(0, 1))
        return rgb
