"""``hdrconv report``: per-frame light levels of an HDR10 file over time, as one PNG.

For every frame the PQ BT.2020 signal is decoded to linear cd/m2 (SMPTE ST 2084) and its light level
max(R, G, B) per pixel, the quantity of MaxCLL/MaxFALL (CTA-861.3-A), is summarised: the frame's
maximum (whose maximum over time is MaxCLL), 99th percentile, and mean (whose maximum is MaxFALL). The
MaxCLL/MaxFALL and the mastering display peak signalled in the file are drawn as dashed lines, so the
plot shows whether the signalled values match the pictures. The frame mean after encoding stays close
to what was measured before it (MaxFALL); the decoded frame maximum can exceed MaxCLL, because 4:2:0
chroma and compression overshoot at the edges of saturated colours. The vertical axis is PQ-scaled,
like the perception of brightness.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch

from hdrconv.color.transfer import eotf_inverse_ST2084, eotf_ST2084
from hdrconv.errors import InputDataError
from hdrconv.eval import canvas
from hdrconv.io.decode import VideoDecoder
from hdrconv.io.probe import check_input, open_container, probe

WIDTH, HEIGHT = 1200, 600
LEFT, RIGHT, TOP, BOTTOM = 90, 30, 50, 100
TICKS_NITS = (0.1, 1, 10, 100, 203, 400, 1000, 2000, 4000, 10000)
COLOURS = {"max": (40, 40, 220), "p99": (0, 140, 255), "mean": (200, 110, 30), "peak": (120, 120, 120)}


def light_levels(path: str) -> tuple[np.ndarray, dict]:
    """Per-frame (time s, max, P99, mean) of max(R, G, B) in cd/m2, and the signalled metadata
    (``max_cll``, ``max_fall``, ``mastering_peak``; ``None`` where absent)."""
    info = probe(path)
    if info.colour.transfer != "smpte2084":
        raise InputDataError(f"{path}: not HDR10 (transfer {info.colour.transfer}); report reads PQ video")
    decoder = VideoDecoder(info)
    rows, meta = [], {"max_cll": None, "max_fall": None, "mastering_peak": None}
    with open_container(path) as c:
        v = c.streams[info.video_index]
        v.thread_type = "AUTO"
        for f in c.decode(v):
            if not rows:
                for sd in f.side_data:
                    name, raw = str(sd.type).split(".")[-1], bytes(sd)
                    if name == "CONTENT_LIGHT_LEVEL":
                        meta["max_cll"], meta["max_fall"] = (int(x) for x in np.frombuffer(raw[:8], "<u4"))
                    elif name == "MASTERING_DISPLAY_METADATA":  # max luminance: 10th AVRational
                        num, den = np.frombuffer(raw[72:80], "<i4")
                        meta["mastering_peak"] = float(num / den) if den else None
            m = eotf_ST2084(decoder.to_signal(f)).amax(dim=0).flatten()
            k = max(1, int(round(0.99 * m.numel())))
            rows.append((float(f.time or 0.0), float(m.max()), float(m.kthvalue(k).values), float(m.mean())))
    if not rows:
        raise InputDataError(f"{path}: no frame could be decoded")
    return np.array(rows), meta


def render(levels: np.ndarray, meta: dict, title: str) -> np.ndarray:
    img = canvas.canvas(WIDTH, HEIGHT)
    x0, x1, y0, y1 = LEFT, WIDTH - RIGHT, HEIGHT - BOTTOM, TOP
    top_nits = max([levels[:, 1].max()] + [v for v in (meta["max_cll"], meta["mastering_peak"]) if v])
    top = next((t for t in TICKS_NITS if t >= top_nits * 1.05), 10000)
    pq_top = float(eotf_inverse_ST2084(torch.tensor(float(top))))
    t = levels[:, 0] - levels[0, 0]
    span = max(float(t[-1]), 1e-6)

    def X(seconds):
        return np.round(x0 + (x1 - x0) * np.asarray(seconds) / span).astype(int)

    def Y(nits):
        pq = eotf_inverse_ST2084(torch.as_tensor(np.asarray(nits, np.float64))).numpy()
        return np.round(y0 - (y0 - y1) * pq / pq_top).astype(int)

    for nits in (n for n in TICKS_NITS if n <= top):
        y = int(Y(nits))
        cv2.line(img, (x0, y), (x1, y), canvas.GRID, 1)
        canvas.text(img, f"{nits:g}", x0 - 8, y + 5, align="right")
    step = next(s for s in (0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600) if span / s <= 10)
    for s in np.arange(0, span + 1e-9, step):
        x = int(X(s))
        cv2.line(img, (x, y0), (x, y1), canvas.GRID, 1)
        canvas.text(img, f"{s:g}", x, y0 + 20, align="center")
    cv2.rectangle(img, (x0, y1), (x1, y0), canvas.INK, 1)
    canvas.text(img, "time, s", (x0 + x1) // 2, y0 + 42, align="center")
    canvas.text(img, "cd/m2", 12, y1 - 14)
    canvas.text(img, title, x0, 30, canvas.TITLE_SCALE)
    for key, column in (("mean", 3), ("p99", 2), ("max", 1)):
        pts = np.stack([X(t), Y(levels[:, column])], axis=1).reshape(-1, 1, 2).astype(np.int32)
        cv2.polylines(img, [pts], False, COLOURS[key], 2, cv2.LINE_AA)
    # labels at alternating ends: MaxCLL sits just under the mastering peak more often than not
    lines = [("max_cll", "max", "MaxCLL", "left"), ("max_fall", "mean", "MaxFALL", "right"),
             ("mastering_peak", "peak", "mastering peak", "right")]
    for field, colour, label, side in lines:
        if meta[field]:
            y = int(Y(meta[field]))
            canvas.dashed_hline(img, x0, x1, y, COLOURS[colour], thickness=2)
            canvas.text(img, f"{label} {meta[field]:g}", x0 + 6 if side == "left" else x1 - 6, y - 6,
                        color=COLOURS[colour], align=side)
    x, y = x0, HEIGHT - 22
    for key, label in (("max", "frame max"), ("p99", "frame 99th percentile"), ("mean", "frame mean")):
        x = canvas.swatch(img, x, y, COLOURS[key], label, kind="line")
    canvas.swatch(img, x, y, COLOURS["max"], "signalled (dashed); light level = max(R,G,B)", kind="dash")
    return img


def report(path: str, out: str, force: bool = False) -> dict:
    """``hdrconv report``: write the light-level plot of ``path`` to ``out``; return the figures."""
    check_input(path)  # a missing input is the news, not an existing picture
    canvas.check_png_path(out, force)
    levels, meta = light_levels(path)
    title = (f"{path}: {len(levels)} frames, measured max {levels[:, 1].max():.0f}, "
             f"max frame mean {levels[:, 3].max():.0f} cd/m2")
    canvas.write_png(render(levels, meta, title), out)
    return {"frames": len(levels), "measured_max": float(levels[:, 1].max()),
            "measured_max_mean": float(levels[:, 3].max()), **meta}
