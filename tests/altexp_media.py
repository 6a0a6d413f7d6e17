"""Alternating-exposure test clips made at run time from a real HDR image of ../shared/hdr: a crop
panning over the image, optionally with a square moving across it, each frame exposed by its place in
the cycle, passed through a camera response, quantised to 8 bits and written losslessly (FFV1 4:4:4)
with a transfer tag. The scene radiance of every frame (units of the EV 0 clipping level) comes back
as the ground truth."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Iterator

import cv2
import numpy as np
import pytest
import torch

from hdrconv.color.transfer import oetf_BT709
from hdrconv.data.grading import expose
from hdrconv.io.hdr_image import read_hdr_image
from tests.media import ffmpeg

SHARED_HDR = Path(__file__).resolve().parents[2] / "shared" / "hdr"
IMAGE = "openexr-images-adjuster.exr"


def scene(width: int = 240) -> torch.Tensor:
    """The test image, ``(3, h, width)`` linear BT.709, exposed with its key at middle grey (1.0 =
    reference white, which EV 0 clips at)."""
    path = SHARED_HDR / IMAGE
    if not path.is_file():
        pytest.skip("the shared HDR collection is not beside this checkout")
    im = read_hdr_image(path)
    h = round(im.shape[0] * width / im.shape[1])
    im = cv2.resize(im, (width, h), interpolation=cv2.INTER_AREA)
    return expose(torch.from_numpy(im).permute(2, 0, 1).contiguous())


def radiance_frames(frames: int, size: tuple[int, int] = (64, 96), pan: float = 1.0,
                    square: int = 0, square_speed: int = 3, square_level: float = 0.6) -> torch.Tensor:
    """``(T, 3, h, w)`` crops of :func:`scene` moving ``pan`` pixels right per frame, with a grey square of
    ``square`` pixels (radiance ``square_level``) moving ``square_speed`` pixels per frame (0: none)."""
    return torch.stack(list(panned(scene(), frames, size, pan, square, square_speed, square_level)))


def panned(image: torch.Tensor, frames: int, size: tuple[int, int], pan: float = 1.0, square: int = 0,
           square_speed: int = 3, square_level: float = 0.6) -> Iterator[torch.Tensor]:
    """The frames of :func:`radiance_frames`, cropped from ``image`` one at a time (a long clip at
    1080p or 4K need not be in memory: bench/alt_exp.py)."""
    h, w = size
    for i in range(frames):
        x = 8 + pan * i
        x0 = int(np.floor(x))
        crop = image[:, 8:8 + h, x0:x0 + w + 1]
        f = float(x - x0)
        frame = crop[..., :w] * (1 - f) + crop[..., 1:w + 1] * f
        if square:
            sx = 4 + square_speed * i
            frame[:, h // 2 - square // 2:h // 2 + square // 2, sx:sx + square] = square_level
        yield frame


def encode_camera(radiance: torch.Tensor, stops: list[float], response: str = "bt709") -> torch.Tensor:
    """What the camera records of ``radiance`` with frame ``i`` exposed at ``stops[i % len(stops)]``:
    8-bit code values in [0, 1]."""
    ev = torch.tensor([stops[i % len(stops)] for i in range(len(radiance))]).view(-1, 1, 1, 1)
    linear = (radiance * 2.0 ** ev).clamp(0, 1)
    V = oetf_BT709(linear) if response == "bt709" else linear ** (1 / 2.2)
    return torch.round(V.clamp(0, 1) * 255) / 255


def write_clip(path: Path, codes: Iterable[torch.Tensor], transfer: str = "bt709", audio: bool = False,
               rate: int = 24) -> Path:
    """8-bit R'G'B' frames ``(3, h, w)`` (a ``(T, 3, h, w)`` tensor, or any iterable of them) -> a
    lossless FFV1 4:4:4 Matroska clip, BT.709 matrix, full range (no rounding to limited range),
    transfer tagged ``transfer`` ("unknown": untagged)."""
    raw = path.with_suffix(".rgb")
    T = 0
    with raw.open("wb") as f:
        for frame in codes:
            f.write((frame * 255).round().to(torch.uint8).permute(1, 2, 0).contiguous().numpy().tobytes())
            T, (h, w) = T + 1, frame.shape[-2:]
    tags = f"setparams=color_primaries=bt709:color_trc={transfer}:colorspace=bt709:range=pc"
    args = ["-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}", "-r", str(rate), "-i", str(raw)]
    maps = ["-map", "0:v"]
    if audio:
        args += ["-f", "lavfi", "-i", f"sine=f=440:d={T / rate}"]
        maps += ["-map", "1:a", "-c:a", "aac", "-shortest"]
    ffmpeg(*args, *maps, "-vf", f"scale=out_color_matrix=bt709:out_range=pc,{tags}", "-c:v", "ffv1",
           "-pix_fmt", "yuv444p", str(path))
    raw.unlink()
    return path
