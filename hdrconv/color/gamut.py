"""RGB colourspace conversion. Matrices come from colour-science; applying them runs in torch."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch

from hdrconv.color._colour import colour


@lru_cache(maxsize=None)
def matrix_RGB_to_RGB(source: str, target: str) -> np.ndarray:
    """3x3 matrix from linear ``source`` RGB to linear ``target`` RGB (colour-science colourspace
    names, e.g. ``"ITU-R BT.709"``), Bradford-adapted if the white points differ."""
    m = colour.matrix_RGB_to_RGB(colour.RGB_COLOURSPACES[source], colour.RGB_COLOURSPACES[target],
                                 chromatic_adaptation_transform="Bradford")
    m = np.asarray(m, dtype=np.float64)
    m.setflags(write=False)
    return m


def RGB_to_RGB(rgb: torch.Tensor, source: str, target: str) -> torch.Tensor:
    """Convert linear RGB with channels on dimension -3 (``...CHW``) from ``source`` to ``target``."""
    if source == target:
        return rgb
    # torch.tensor copies: the cached matrix is read-only, which torch.as_tensor warns about
    m = torch.tensor(matrix_RGB_to_RGB(source, target), dtype=rgb.dtype, device=rgb.device)
    return torch.einsum("ij,...jhw->...ihw", m, rgb)
