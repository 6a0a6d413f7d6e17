"""The built-in sample: a short SDR clip made on the fly from FFmpeg's own test sources.

Nothing is downloaded or bundled: FFmpeg's ``testsrc2`` pattern (moving colour bars, gradients and
text, full white and saturated primaries, so that every model has highlights and colour to work on),
a 440 Hz tone and two English subtitles, encoded as H.264 BT.709 in MP4, like a phone or camera clip.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import ffmpeg

from hdrconv.errors import OutputError
from hdrconv.io.encode import FFMPEG

_SUBTITLES = ("1\n00:00:00,200 --> 00:00:01,500\nhdrconv sample clip\n\n"
              "2\n00:00:01,600 --> 00:00:02,900\nSDR in, HDR10 out\n")


def make_sample(path: str | Path, seconds: float = 3.0, size: str = "1280x720", rate: int = 25) -> Path:
    """Write the sample clip to ``path`` (``.mp4`` or ``.mkv``) and return it."""
    path = Path(path)
    with tempfile.TemporaryDirectory() as tmp:
        srt = Path(tmp) / "sample.srt"
        srt.write_text(_SUBTITLES)
        video = (ffmpeg.input(f"testsrc2=s={size}:r={rate}:d={seconds}", format="lavfi")
                 .filter("setparams", color_primaries="bt709", color_trc="bt709", colorspace="bt709",
                         range="tv"))
        audio = ffmpeg.input(f"sine=f=440:d={seconds}", format="lavfi")
        subs = ffmpeg.input(str(srt))
        out = ffmpeg.output(video, audio, subs, str(path.resolve()), vcodec="libx264", preset="fast",
                            crf=20, pix_fmt="yuv420p", acodec="aac",
                            scodec="mov_text" if path.suffix == ".mp4" else "srt",
                            **{"metadata:s:a:0": "language=eng", "metadata:s:s:0": "language=eng"})
        args = ffmpeg.compile(out.global_args("-hide_banner", "-loglevel", "error", "-nostdin"), cmd=FFMPEG,
                              overwrite_output=True)
        r = subprocess.run(args, capture_output=True, text=True)
    if r.returncode != 0:
        raise OutputError(f"{path}: cannot write the sample clip: {(r.stderr.strip().splitlines() or ['?'])[-1]}")
    return path
