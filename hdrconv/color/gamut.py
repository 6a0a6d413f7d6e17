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


def RGB_to_RGB(rgb: torch.Tensor, source: str, target: str, scale: float = 1.0) -> torch.Tensor:
    """Convert linear RGB with channels on dimension -3 (``...CHW``) from ``source`` to ``target``,
    multiplied by ``scale`` (folded into the matrix: one pass over the frame)."""
    if source == target:
        return rgb * scale if scale != 1 else rgb
    # torch.tensor copies: the cached matrix is read-only, which torch.as_tensor warns about
    m = torch.tensor(matrix_RGB_to_RGB(source, target) * scale, dtype=rgb.dtype, device=rgb.device)
    return apply_matrix(m, rgb)


def apply_matrix(m: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """``m @ x`` over the channels (dimension -3) of ``...CHW`` tensors; ``m`` is one ``(3, 3)``
    matrix or one per sample, ``(N, 3, 3)`` for ``(N, 3, H, W)``.

    Outside autograd, one 2-D matrix product per frame written in place: on a 1080p frame ~2x faster
    than a batched product and ~3x faster than the equivalent einsum.
    """
    h, w = x.shape[-2:]
    if torch.is_grad_enabled() and (m.requires_grad or x.requires_grad):
        return torch.matmul(m, x.reshape(*x.shape[:-2], h * w)).view(*x.shape[:-3], m.shape[-2], h, w)
    frames = x.reshape(-1, x.shape[-3], h * w)
    matrices = m.reshape(-1, *m.shape[-2:])
    out = frames.new_empty(frames.shape[0], m.shape[-2], h * w)
    for i, frame in enumerate(frames):
        torch.mm(matrices[i if len(matrices) > 1 else 0], frame, out=out[i])
    return out.view(*x.shape[:-3], m.shape[-2], h, w)
