"""Tiny scene-linear HDR images written at test time (OpenEXR), for the data, training and evaluation
tests: smooth random light over ~12 stops with a few small highlights well above reference white."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import OpenEXR
import torch


def hdr_scene(seed: int, h: int = 48, w: int = 64) -> np.ndarray:
    g = torch.Generator().manual_seed(seed)
    low = torch.randn(1, 3, 4, 5, generator=g)
    light = torch.exp(1.5 * torch.nn.functional.interpolate(low, size=(h, w), mode="bicubic", align_corners=True))
    light[0, :, h // 4: h // 4 + 3, w // 3: w // 3 + 4] *= 400  # a lamp
    return light[0].permute(1, 2, 0).numpy().astype(np.float32)


def write_hdr_folder(folder: Path, names: list[str], h: int = 48, w: int = 64) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i, name in enumerate(names):
        header = {"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage}
        with OpenEXR.File(header, {"RGB": hdr_scene(i, h, w)}) as f:
            f.write(str(folder / name))
    return folder
