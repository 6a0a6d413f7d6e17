"""HDR10 static metadata: measuring the content light level and writing it where players read it.

MaxCLL and MaxFALL (CTA-861.3-A §3, as defined for HDR10): MaxCLL is the maximum over frames of the
largest max(R, G, B) of any pixel, MaxFALL the maximum over frames of the frame mean of max(R, G, B),
both in cd/m2 of the linear BT.2020 RGB handed to the encoder. One departure: a frame's largest value
is taken over all but its brightest :data:`OUTLIER_FRACTION` of pixels (200 of a 1080p frame; none of
a frame under 10,000 pixels). Those few are isolated pixels at saturated edges - an expanding model
amplifies an SDR codec's ringing there - that the 4:2:0 encoding cannot keep: on the demo clip with
``fastitm`` the largest pixel was 434 cd/m2 and the decoded file's 99.99th percentile 313, so the exact
maximum would signal a level no pixel of the file reaches.

They are only known after the last frame, but the HEVC SEI is written by x265 at the first keyframe.
So the encoder is started with a placeholder (65535, 65535) whose SEI bytes cannot occur by accident,
and :func:`patch_content_light_sei` overwrites them in place once the values are measured (same byte
length, so the file stays valid). The container-level values are set when the encoded video is remuxed
(:mod:`hdrconv.io.encode`).
"""

from __future__ import annotations

import math
from pathlib import Path

import torch

from hdrconv.color.conventions import ContentLightLevel

PLACEHOLDER = ContentLightLevel(65535, 65535)

# prefix SEI NAL header (type 39), payload type 144 (content_light_level_info), size 4, then the
# placeholder values and the rbsp trailing bits
_SEI_HEAD = bytes([0x4E, 0x01, 0x90, 0x04])
_SEI_PLACEHOLDER = _SEI_HEAD + bytes([0xFF, 0xFF, 0xFF, 0xFF, 0x80])


OUTLIER_FRACTION = 1e-4
"""Fraction of a frame's pixels, the brightest, left out of its peak (see the module docstring)."""


class LightLevelMeter:
    """Accumulates MaxCLL/MaxFALL over the frames handed to the encoder, with per-frame statistics."""

    def __init__(self):
        self.frame_peak: list[float] = []
        self.frame_mean: list[float] = []

    def update(self, rgb_nits: torch.Tensor) -> None:
        """Add ``(T, 3, H, W)`` linear BT.2020 RGB frames in cd/m2."""
        m = rgb_nits.amax(dim=-3).flatten(1)
        left_out = math.floor(m.shape[1] * OUTLIER_FRACTION)
        # the (left_out + 1)-th largest value; topk, not quantile: 9 ms instead of a sort of 2 M values
        peak = torch.topk(m, left_out + 1, dim=1, sorted=False).values.amin(dim=1) if left_out else m.amax(dim=1)
        self.frame_peak.extend(peak.tolist())
        self.frame_mean.extend(m.mean(dim=1).tolist())

    def result(self) -> ContentLightLevel:
        """The integers to signal. Rounded up, and at least 1 cd/m2: 0 means "unknown" in CTA-861.3."""
        max_cll = max(1, math.ceil(max(self.frame_peak, default=0.0) - 1e-6))
        max_fall = max(1, math.ceil(max(self.frame_mean, default=0.0) - 1e-6))
        return ContentLightLevel(max_cll, min(max_fall, max_cll))


def _sei_payload(cll: ContentLightLevel) -> bytes:
    """The 4 payload bytes, keeping clear of an emulation-prevention pattern (00 00 0x, x <= 3).

    With MaxCLL >= 1 the only such pattern is MaxCLL % 256 == 0 with MaxFALL <= 3; MaxCLL is then
    signalled 1 cd/m2 higher (still an upper bound) so the patch keeps the SEI's length.
    """
    max_cll = cll.max_cll + (1 if cll.max_cll % 256 == 0 and cll.max_fall <= 3 else 0)
    return bytes([max_cll >> 8, max_cll & 0xFF, cll.max_fall >> 8, cll.max_fall & 0xFF])


def patch_content_light_sei(path: str | Path, cll: ContentLightLevel, chunk: int = 1 << 24) -> int:
    """Overwrite the placeholder content-light-level SEIs in ``path`` with ``cll``; return how many."""
    new = _SEI_HEAD + _sei_payload(cll) + b"\x80"
    overlap = len(_SEI_PLACEHOLDER) - 1
    found = []
    with open(path, "rb") as f:
        offset, tail = 0, b""
        while True:
            block = f.read(chunk)
            if not block:
                break
            data = tail + block
            base = offset - len(tail)
            i = data.find(_SEI_PLACEHOLDER)
            while i >= 0:
                found.append(base + i)
                i = data.find(_SEI_PLACEHOLDER, i + 1)
            tail = data[-overlap:]
            offset += len(block)
    with open(path, "r+b") as f:
        for pos in found:
            f.seek(pos)
            f.write(new)
    return len(found)
