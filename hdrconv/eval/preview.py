"""``hdrconv preview``: look at one frame before converting a whole video.

One PNG with three panels side by side:

1. the SDR frame as decoded (BT.709 R'G'B', what an SDR screen shows);
2. the model's HDR result tone-mapped back for an SDR screen (:func:`hdr_to_sdr_display`), so that the
   two can be compared on the screen the user has;
3. a false-colour map of the HDR frame's luminance in cd/m2 (:func:`false_colour`): the picture's own
   greys below 100 cd/m2, then one colour per band, 100-203 (up to the BT.2408 reference white),
   203-400, 400-1000 and above 1000 cd/m2, with the share of the frame in each band in the legend.

The frame at ``--at`` is reached by seeking to the keyframe before it and runs through the window
loop of a conversion (:mod:`hdrconv.pipeline.windows`): a temporal model (``model.temporal``: state
carried from frame to frame) gets every frame from that keyframe on, as a conversion would give it
(its state before the keyframe is not reproduced); any model gets its context frames around the
target, mirrored where the keyframe or the end of the video cuts them off.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import av
import cv2
import numpy as np
import torch

from hdrconv.color.bt2390 import eetf_BT2390_max_RGB
from hdrconv.color.conventions import BT2020_WEIGHTS, HDR_COLOURSPACE, REFERENCE_WHITE_NITS, SDR_COLOURSPACE
from hdrconv.color.gamut import RGB_to_RGB
from hdrconv.color.transfer import eotf_inverse_BT1886, eotf_inverse_ST2084
from hdrconv.errors import InputDataError, UsageError
from hdrconv.eval import canvas
from hdrconv.io.decode import VideoDecoder, deinterlaced
from hdrconv.io.probe import check_input, open_container, probe
from hdrconv.models.base import Model
from hdrconv.pipeline import windows

BANDS = ((100.0, (60, 180, 60), "100-203"), (REFERENCE_WHITE_NITS, (0, 215, 235), "203-400"),
         (400.0, (0, 140, 255), "400-1000"), (1000.0, (40, 40, 220), "> 1000"))
"""False-colour bands: lower edge in cd/m2, BGR colour, legend label (green, yellow, orange, red)."""

PANEL_WIDTH = 480
MARGIN = 16
TITLE_BAND = 64
LEGEND_BAND = 64

_TIME = re.compile(r"^(?:(\d+):)?(?:(\d+):)?(\d+(?:\.\d*)?)$")


def parse_time(s: str) -> float:
    """``--at``: seconds (``12.5``), ``MM:SS`` or ``HH:MM:SS(.sss)``."""
    m = _TIME.match(s.strip())
    if not m:
        raise UsageError(f"--at {s}: expected seconds or HH:MM:SS")
    parts = [float(p) for p in m.groups() if p is not None]
    seconds = 0.0
    for p in parts:
        seconds = seconds * 60 + p
    return seconds


def hdr_to_sdr_display(nits: torch.Tensor) -> torch.Tensor:
    """Linear BT.2020 RGB in cd/m2 ``(3, H, W)`` -> BT.709 R'G'B' in [0, 1] for an SDR screen.

    The SDR screen's peak stands for the HDR reference white, 203 cd/m2 (ITU-R BT.2408-7 §5: the level
    SDR white maps to; mpv and libplacebo tone-map to SDR the same way). Highlights above it are
    compressed with the ITU-R BT.2390-8 §5.4.1 EETF, from the frame's peak to 203 cd/m2, applied in PQ
    to max(R, G, B) with the pixel scaled by the ratio (hue kept), as in :mod:`hdrconv.data.grading`.
    Then BT.2020 -> BT.709 (out-of-gamut colours clipped) and the BT.1886 inverse EOTF. A frame that
    never exceeds 203 cd/m2 (``bt2408``) comes back as the SDR frame.
    """
    source_peak = max(float(nits.amax()), REFERENCE_WHITE_NITS)
    mapped = eetf_BT2390_max_RGB(nits, source_peak, REFERENCE_WHITE_NITS)
    rgb = RGB_to_RGB(mapped, HDR_COLOURSPACE, SDR_COLOURSPACE) / REFERENCE_WHITE_NITS
    return eotf_inverse_BT1886(rgb.clamp(0, 1))


def luminance_BT2020(nits: torch.Tensor) -> torch.Tensor:
    """Luminance in cd/m2 of linear BT.2020 RGB ``(3, H, W)`` -> ``(H, W)``."""
    w = torch.tensor(BT2020_WEIGHTS, dtype=nits.dtype).view(3, 1, 1)
    return (nits * w).sum(dim=0)


def false_colour(Y: np.ndarray) -> tuple[np.ndarray, list[float]]:
    """Luminance ``(H, W)`` in cd/m2 -> BGR uint8 false-colour image, and the share of pixels (%) below
    100 cd/m2 and in each of :data:`BANDS`. Below 100 cd/m2 the picture is shown in greys (PQ-scaled,
    dimmed) so that it stays recognisable."""
    pq = eotf_inverse_ST2084(torch.from_numpy(Y)).numpy()
    grey = np.clip(pq / float(eotf_inverse_ST2084(torch.tensor(100.0))) * 200, 0, 200).astype(np.uint8)
    img = np.repeat(grey[..., None], 3, axis=2)
    edges = [b[0] for b in BANDS] + [np.inf]
    shares = [float((Y < edges[0]).mean() * 100)]
    for (low, colour, _), high in zip(BANDS, edges[1:]):
        inside = (Y >= low) & (Y < high)
        img[inside] = colour
        shares.append(float(inside.mean() * 100))
    return img, shares


@dataclass
class PreviewFrame:
    time: float
    sdr: torch.Tensor
    """(3, H, W) BT.709 R'G'B' [0, 1]."""
    hdr: torch.Tensor
    """(3, H', W') linear BT.2020 cd/m2."""


def convert_frame(path: str, at: float, model: Model) -> PreviewFrame:
    """Decode the frame shown at ``at`` seconds and run ``model`` up to it."""
    info = probe(path)
    if info.hdr:
        raise InputDataError(f"{path}: already HDR ({info.hdr_reason}); preview shows SDR input")
    decoder = VideoDecoder(info)
    past, future = model.context
    with open_container(path) as c:
        v = c.streams[info.video_index]
        v.thread_type = "AUTO"
        if at > 0 and v.time_base:
            c.seek(int(at / v.time_base) + (v.start_time or 0), stream=v, backward=True)
        # the model's past (for a temporal model everything from the keyframe), the target, its future
        frames: list[av.VideoFrame] = []
        target = None
        try:
            for f in deinterlaced(c.decode(v), v) if info.interlaced else c.decode(v):
                t = float(f.time) if f.time is not None else 0.0
                if target is None and frames and t > at + 0.5 / info.fps:
                    target = len(frames) - 1
                if target is not None and len(frames) > target + future:
                    break
                frames.append(f)
                if target is None and not model.temporal:
                    del frames[:-1 - past]
        except av.error.FFmpegError as e:
            raise InputDataError(f"{path}: decoding failed ({e.strerror or e})") from None
        if not frames:
            raise InputDataError(f"{path}: no frame could be decoded")
        target = len(frames) - 1 if target is None else target
        last = float(frames[target].time or 0.0)
        if at > last + 1.0 / info.fps:
            raise UsageError(f"--at {at:g} s is past the end of {path} (last frame at {last:.2f} s)")
        sdr = decoder.to_rgb(frames[target])
        # R'G'B' (float32: 12 bytes a pixel) made as the window loop reads each frame; the list holds
        # the decoded 4:2:0 ones (1.5 bytes a pixel at 8 bits)
        stream = (windows.Frame(sdr if i == target else decoder.to_rgb(f), f.time) for i, f in enumerate(frames))
        with torch.inference_mode():
            # a model without state has its targets from the one wanted on: the frames before are its context
            for window, out in windows.run(model, stream, first=0 if model.temporal else target):
                targets = window.indices[window.targets]
                if target in targets:
                    hdr = out[targets.index(target)].float().clamp(min=0).cpu()
                    break
    return PreviewFrame(last, sdr, hdr)


def _to_bgr(rgb: torch.Tensor, width: int, height: int) -> np.ndarray:
    img = (rgb.permute(1, 2, 0).numpy()[..., ::-1] * 255 + 0.5).clip(0, 255).astype(np.uint8)
    return cv2.resize(img, (width, height), interpolation=cv2.INTER_AREA if img.shape[1] > width else cv2.INTER_CUBIC)


def layout(width: int, height: int) -> tuple[int, int, int]:
    """Panel height and the picture's width and height for a ``width`` x ``height`` frame."""
    panel_h = max(2, round(PANEL_WIDTH * height / width))
    return panel_h, 3 * PANEL_WIDTH + 4 * MARGIN, TITLE_BAND + panel_h + LEGEND_BAND


def render(frame: PreviewFrame, source: str, model_name: str) -> np.ndarray:
    """The preview picture (BGR uint8)."""
    _, h, w = frame.sdr.shape
    panel_h, width, height = layout(w, h)
    img = canvas.canvas(width, height)
    Y = luminance_BT2020(frame.hdr)
    fc, shares = false_colour(Y.numpy())
    panels = [(_to_bgr(frame.sdr, PANEL_WIDTH, panel_h), "SDR input"),
              (_to_bgr(hdr_to_sdr_display(frame.hdr), PANEL_WIDTH, panel_h), f"HDR ({model_name}), tone-mapped to SDR"),
              (cv2.resize(fc, (PANEL_WIDTH, panel_h), interpolation=cv2.INTER_NEAREST), "HDR luminance, cd/m2")]
    peak = float(frame.hdr.amax())
    canvas.text(img, f"{source}  at {frame.time:.3f} s   HDR peak {peak:.0f} cd/m2 (max RGB),"
                     f" mean luminance {float(Y.mean()):.1f} cd/m2", MARGIN, 24, canvas.TITLE_SCALE)
    for i, (panel, label) in enumerate(panels):
        x = MARGIN + i * (PANEL_WIDTH + MARGIN)
        img[TITLE_BAND:TITLE_BAND + panel_h, x:x + PANEL_WIDTH] = panel
        canvas.text(img, label, x + PANEL_WIDTH // 2, TITLE_BAND - 10, align="center")
    x = 2 * (PANEL_WIDTH + MARGIN) + MARGIN
    y = TITLE_BAND + panel_h + 26
    entries = [((128, 128, 128), "< 100")] + [(c, label) for _, c, label in BANDS]
    for i, ((colour, label), share) in enumerate(zip(entries, shares)):
        row, col = divmod(i, 3)
        canvas.swatch(img, x + col * (PANEL_WIDTH // 3), y + row * 26, colour, f"{label}: {share:.0f}%")
    canvas.text(img, "BT.2390 EETF to a 203 cd/m2 SDR white", MARGIN + PANEL_WIDTH + MARGIN, y,
                color=(110, 110, 110))
    return img


def preview(path: str, at: float, model: Model, out: str, force: bool = False) -> PreviewFrame:
    """``hdrconv preview``: write the comparison picture of the frame at ``at`` seconds to ``out``."""
    check_input(path)  # a missing input is the news, not an existing picture
    canvas.check_png_path(out, force)
    frame = convert_frame(path, at, model)
    canvas.write_png(render(frame, path, model.name), out)
    return frame
