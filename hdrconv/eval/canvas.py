"""Drawing for the pictures hdrconv writes (``preview``, ``report``): OpenCV primitives with one font,
one text size and a white background, so that the figures read alike. Images are BGR uint8 (OpenCV).
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from hdrconv.errors import OutputError, UsageError
from hdrconv.io.paths import check_writable_folder, refuse_existing, temp_name

FONT = cv2.FONT_HERSHEY_SIMPLEX
TEXT_SCALE = 0.55
TITLE_SCALE = 0.7
INK = (30, 30, 30)
GRID = (225, 225, 225)
BACKGROUND = (255, 255, 255)


def canvas(width: int, height: int) -> np.ndarray:
    img = np.empty((height, width, 3), np.uint8)
    img[:] = BACKGROUND
    return img


def text(img: np.ndarray, s: str, x: int, y: int, scale: float = TEXT_SCALE, color=INK, align: str = "left",
         thickness: int = 1) -> int:
    """Draw ``s`` with its baseline at ``y``; ``align`` left/center/right at ``x``. Returns its width."""
    (w, _), _ = cv2.getTextSize(s, FONT, scale, thickness)
    x0 = {"left": x, "center": x - w // 2, "right": x - w}[align]
    cv2.putText(img, s, (int(x0), int(y)), FONT, scale, color, thickness, cv2.LINE_AA)
    return w


def text_width(s: str, scale: float = TEXT_SCALE) -> int:
    return cv2.getTextSize(s, FONT, scale, 1)[0][0]


def dashed_hline(img: np.ndarray, x0: int, x1: int, y: int, color, dash: int = 8, thickness: int = 1) -> None:
    for x in range(x0, x1, 2 * dash):
        cv2.line(img, (x, y), (min(x + dash, x1), y), color, thickness, cv2.LINE_AA)


def swatch(img: np.ndarray, x: int, y: int, color, label: str, kind: str = "box") -> int:
    """A legend entry at baseline ``y``: a filled box, a line or a dashed line, then ``label``. Returns
    the x where the next entry may start."""
    if kind == "box":
        cv2.rectangle(img, (x, y - 13), (x + 18, y + 3), color, -1)
        cv2.rectangle(img, (x, y - 13), (x + 18, y + 3), INK, 1)
    elif kind == "line":
        cv2.line(img, (x, y - 5), (x + 26, y - 5), color, 2, cv2.LINE_AA)
    else:
        dashed_hline(img, x, x + 26, y - 5, color, dash=5, thickness=2)
    x += 34
    return x + text(img, label, x, y) + 22


def write_png(img: np.ndarray, path: str | Path) -> None:
    """Encode ``img`` as PNG into a hidden temporary file beside ``path`` and rename it over ``path``:
    a failed write never leaves a partial picture there, nor destroys the one that was."""
    ok, data = cv2.imencode(".png", img)
    if not ok:
        raise OutputError(f"{path}: cannot encode the PNG")
    tmp = temp_name(Path(path), "tmp.png")
    try:
        tmp.write_bytes(data.tobytes())
        os.replace(tmp, path)
    except OSError as e:
        raise OutputError(f"{path}: cannot write the PNG ({e.strerror})") from None
    finally:
        tmp.unlink(missing_ok=True)


def check_png_path(path: str | Path, force: bool = False) -> None:
    """Before any work: the picture's path ends in .png, no file is there (unless ``force``), and its
    folder takes new files."""
    if Path(path).suffix.lower() != ".png":
        raise UsageError(f"{path}: the picture is a PNG, its name must end in .png")
    refuse_existing(str(path), force)
    check_writable_folder(str(path))
