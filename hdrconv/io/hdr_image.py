"""Reading scene-linear HDR images: OpenEXR (with the ASWF ``OpenEXR`` bindings) and Radiance RGBE
(``.hdr``/``.pic``, with OpenCV).

OpenEXR goes through the Academy Software Foundation's own Python bindings because the OpenCV wheels
(``opencv-python-headless`` 5.x) are built without OpenEXR (``cv2.getBuildInformation()``: "OpenEXR:
NO"), so ``OPENCV_IO_ENABLE_OPENEXR`` cannot help there. Images come back as float32 ``H x W x 3``
*linear* RGB (R, G, B order) with the primaries of the file (the images of ``../shared/hdr`` are
BT.709).
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import OpenEXR

from hdrconv.errors import InputDataError, InputMissingError

HDR_IMAGE_SUFFIXES = (".exr", ".hdr", ".pic")
"""File name suffixes (lower case) of the HDR image formats read here."""


def read_hdr_image(path: str | os.PathLike) -> np.ndarray:
    """Read an OpenEXR or Radiance HDR image as float32 ``H x W x 3`` linear RGB.

    Grey images are replicated to three channels, an alpha channel is dropped, and non-finite or
    negative values (EXR can hold both) are set to 0, since they mean no light.
    """
    path = Path(path)
    if not path.is_file():
        raise InputMissingError(f"HDR image not found: {path}")
    if path.suffix.lower() not in HDR_IMAGE_SUFFIXES:
        raise InputDataError(f"not an HDR image (expected {', '.join(HDR_IMAGE_SUFFIXES)}): {path}")
    image = _read_exr(path) if path.suffix.lower() == ".exr" else _read_rgbe(path)
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=2)
    elif image.shape[2] == 4:
        image = image[..., :3]
    elif image.shape[2] != 3:
        raise InputDataError(f"{path}: {image.shape[2]} channels, expected 1, 3 or 4")
    if not np.issubdtype(image.dtype, np.floating):
        raise InputDataError(f"{path}: integer pixels ({image.dtype}), expected a floating-point HDR image")
    rgb = np.ascontiguousarray(image, dtype=np.float32)
    np.nan_to_num(rgb, copy=False, nan=0.0, posinf=0.0, neginf=0.0)
    np.maximum(rgb, 0.0, out=rgb)
    return rgb


def _read_exr(path: Path) -> np.ndarray:
    try:
        with OpenEXR.File(str(path)) as f:
            channels = {name: c.pixels for name, c in f.channels().items()}
    except Exception as e:  # the bindings raise bare RuntimeError/ValueError on corrupt files
        raise InputDataError(f"cannot decode OpenEXR image {path}: {e}") from None
    for name in ("RGB", "RGBA", "Y"):
        if name in channels:
            return channels[name]
    if all(c in channels for c in "RGB"):
        return np.stack([channels[c] for c in "RGB"], axis=-1)
    raise InputDataError(f"{path}: no R, G, B or Y channels (found {', '.join(channels) or 'none'})")


def _read_rgbe(path: Path) -> np.ndarray:
    # imdecode from bytes: cv2.imread cannot open non-ASCII paths on every platform
    image = cv2.imdecode(np.fromfile(path, dtype=np.uint8), cv2.IMREAD_ANYCOLOR | cv2.IMREAD_ANYDEPTH)
    if image is None:
        raise InputDataError(f"cannot decode Radiance HDR image: {path}")
    return image[..., ::-1]


def list_hdr_images(folder: str | os.PathLike) -> list[Path]:
    """The HDR images directly inside ``folder``, sorted by name."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputMissingError(f"HDR image folder not found: {folder}")
    paths = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in HDR_IMAGE_SUFFIXES)
    if not paths:
        raise InputDataError(f"no HDR images ({', '.join(HDR_IMAGE_SUFFIXES)}) in {folder}")
    return paths
