"""Test media made at run time with the bundled ffmpeg (lavfi sources): nothing is stored in the repo."""

from __future__ import annotations

import subprocess
from pathlib import Path

import av
import numpy as np

from hdrconv.io.encode import FFMPEG

SRT = "1\n00:00:00,100 --> 00:00:00,400\nHello HDR\n\n2\n00:00:00,500 --> 00:00:00,900\nSecond line\n"


def ffmpeg(*args: str) -> None:
    subprocess.run([FFMPEG, "-hide_banner", "-loglevel", "error", "-nostdin", "-y", *args], check=True)


def make_clip(path: Path, size: str = "160x90", rate: int = 24, seconds: float = 1.0, audio: bool = True,
              subtitles: bool = False, vcodec: str = "libx264", extra: tuple[str, ...] = (),
              pattern: str = "testsrc2") -> Path:
    """An SDR test clip (a lavfi test pattern), optionally with a sine audio track and SRT subtitles.

    testsrc2 rounds odd sizes down to even; testsrc keeps them.
    """
    args = ["-f", "lavfi", "-i", f"{pattern}=s={size}:r={rate}:d={seconds}"]
    maps = ["-map", "0:v"]
    if audio:
        args += ["-f", "lavfi", "-i", f"sine=f=440:d={seconds}"]
        maps += ["-map", "1:a"]
    if subtitles:
        srt = path.with_suffix(".srt")
        srt.write_text(SRT)
        args += ["-i", str(srt)]
        maps += ["-map", f"{2 if audio else 1}:s", "-metadata:s:s:0", "language=fra"]
    codecs = ["-c:v", vcodec, "-pix_fmt", "yuv420p"]
    if vcodec == "libx264":
        codecs += ["-preset", "ultrafast"]
    if audio:
        codecs += ["-c:a", "aac", "-metadata:s:a:0", "language=eng"]
    if subtitles:
        codecs += ["-c:s", "srt" if path.suffix == ".mkv" else "mov_text"]
    ffmpeg(*args, *maps, *codecs, *extra, str(path))
    return path


def make_patches(path: Path, codes: list[tuple[int, int, int]], patch: int = 16, bits: int = 8) -> Path:
    """A lossless (FFV1) BT.709 limited-range clip of flat Y'CbCr patches with exactly these codes
    (``bits``-bit code values, 8 or 10)."""
    n = len(codes)
    w, h = patch * n, patch
    dtype = np.uint8 if bits == 8 else np.uint16
    y = np.zeros((h, w), dtype)
    u = np.zeros((h // 2, w // 2), dtype)
    v = np.zeros((h // 2, w // 2), dtype)
    for i, (cy, cb, cr) in enumerate(codes):
        y[:, i * patch:(i + 1) * patch] = cy
        u[:, i * patch // 2:(i + 1) * patch // 2] = cb
        v[:, i * patch // 2:(i + 1) * patch // 2] = cr
    raw = path.with_suffix(".yuv")
    raw.write_bytes((y.tobytes() + u.tobytes() + v.tobytes()) * 2)
    pix_fmt = "yuv420p" if bits == 8 else "yuv420p10le"
    ffmpeg("-f", "rawvideo", "-pix_fmt", pix_fmt, "-s", f"{w}x{h}", "-r", "24", "-i", str(raw),
           "-vf", "setparams=color_primaries=bt709:color_trc=bt709:colorspace=bt709:range=tv",
           "-c:v", "ffv1", "-pix_fmt", pix_fmt, str(path))
    return path


def decode_yuv10(path: Path) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """All frames of ``path`` as 10-bit (Y, Cb, Cr) code value planes."""
    out = []
    with av.open(str(path)) as c:
        for f in c.decode(c.streams.video[0]):
            planes = [np.frombuffer(p, np.uint16).reshape(p.height, p.line_size // 2)[:, : p.width]
                      for p in f.planes]
            out.append(tuple(planes))
    return out
