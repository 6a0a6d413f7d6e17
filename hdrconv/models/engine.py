"""The inference engine of every CNN model: device, precision, threads and tiled inference.

A full-resolution CNN needs memory proportional to frame area times feature channels (IRNet-2 on a 4K
frame: 64 channels x 8.3 M pixels x 4 bytes = 2.1 GB per feature map). :class:`TiledInference` bounds
that by running the network on tiles of at most ``tile`` x ``tile`` output pixels:

- each tile is computed with ``margin`` extra input pixels of context on every inner side, which are
  cut off the output, so a network whose receptive-field radius is at most ``margin`` gives exactly
  the untiled result (the zero padding of the convolutions never reaches the kept pixels);
- neighbouring tiles overlap by ``blend`` pixels and are cross-faded there with linear ramps whose
  weights sum to one, so that layers with image-wide statistics (IRNet's contrast-aware channel
  attention) cannot leave a visible seam either.

Only one tile's activations exist at a time; the output frame is accumulated in place on the input's
device. A network that cannot be cut into tiles (a recurrent one whose state covers the whole frame)
runs on whole frames (``tiled=False``): its memory is then bounded by the frame size alone. The network runs in ``torch.inference_mode`` with channels-last tensors (faster convolutions
on CPU and on tensor cores) and, on CUDA, under autocast in half precision.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import ClassVar

import torch

from hdrconv.errors import UsageError

DEVICES = ("auto", "cpu", "cuda")


def resolve_device(spec: str = "auto") -> torch.device:
    """``--device``: ``"auto"`` (CUDA if available, else CPU), ``"cpu"``, ``"cuda"`` or ``"cuda:N"``."""
    if spec == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if spec == "cpu":
        return torch.device("cpu")
    if spec == "cuda" or spec.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise UsageError(f"--device {spec}: no CUDA device is available (use --device cpu)")
        device = torch.device(spec)
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise UsageError(f"--device {spec}: only {torch.cuda.device_count()} CUDA device(s)")
        return device
    raise UsageError(f"--device must be one of {', '.join(DEVICES)} or cuda:N, got {spec!r}")


def set_threads(threads: int | None) -> None:
    """Intra-op CPU threads of torch (``None`` keeps torch's default: one per physical core)."""
    if threads is not None:
        if threads < 1:
            raise UsageError(f"--threads must be at least 1, got {threads}")
        torch.set_num_threads(threads)


def autocast_dtype(device: torch.device) -> torch.dtype | None:
    """Reduced precision the networks run in on ``device``: float16 on CUDA, none (float32) on CPU.

    float16 rather than bfloat16: the networks output PQ code values in [0, 1], and float16's 11-bit
    significand resolves the 10-bit HDR10 code steps, bfloat16's 8-bit one does not.
    """
    return torch.float16 if device.type == "cuda" else None


def tile_spans(length: int, tile: int, blend: int) -> list[tuple[int, int]]:
    """``[start, end)`` spans of at most ``tile`` covering ``range(length)``, consecutive spans
    overlapping by at least ``blend``."""
    if length <= tile:
        return [(0, length)]
    if not 0 <= blend < tile:
        raise ValueError(f"blend ({blend}) must be in [0, tile ({tile}))")
    stride = tile - blend
    starts = list(range(0, length - tile, stride)) + [length - tile]
    return [(s, s + tile) for s in starts]


def blend_weights(start: int, end: int, length: int, blend: int) -> torch.Tensor:
    """Cross-fade weights of the span ``[start, end)`` of an axis of ``length``: linear ramps over the
    ``blend`` samples shared with a neighbouring span, 1 elsewhere (and at the image borders).

    With the spans of :func:`tile_spans`, two ramps that meet are mirror images, so the weights of the
    overlapping tiles add up to 1 over a ``blend``-wide overlap.
    """
    w = torch.ones(end - start)
    ramp = torch.arange(1, blend + 1, dtype=torch.float32) / (blend + 1)
    if start > 0:
        w[:blend] = ramp
    if end < length:
        w[len(w) - blend:] = torch.minimum(w[len(w) - blend:], ramp.flip(0))
    return w


@dataclass
class TiledInference:
    """Run a network on ``(N, C, H, W)`` frames tile by tile (see the module docstring).

    ``tile``, ``margin`` and ``blend`` are in input pixels; a network with output ``scale`` > 1 (joint
    SR-ITM) has its output tiles scaled accordingly. ``tile = None`` picks :attr:`CPU_TILE` or
    :attr:`CUDA_TILE` by device.
    """

    CPU_TILE: ClassVar[int] = 256
    """Measured on a 2-core CPU, IRNet-2 on a 4K frame: 66 s and 978 MiB peak RSS with 256-pixel tiles,
    95 s and 1005 MiB with 512-pixel tiles (larger feature maps are allocated and returned to the
    system for every layer, and page faults outweigh the smaller margin overhead)."""
    CUDA_TILE: ClassVar[int] = 1024
    """GPU memory is ample for 1024-pixel tiles of the project's networks; larger tiles amortise the
    kernel launches."""

    device: torch.device = torch.device("cpu")
    tile: int | None = None
    margin: int = 16
    blend: int = 32

    @property
    def tile_size(self) -> int:
        if self.tile is not None:
            return self.tile
        return self.CUDA_TILE if self.device.type == "cuda" else self.CPU_TILE

    def _context(self):
        dtype = autocast_dtype(self.device)
        if dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=dtype)

    def _run(self, net: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
        x = x.to(self.device, non_blocking=True).contiguous(memory_format=torch.channels_last)
        with torch.inference_mode(), self._context():
            return net(x).float()

    def __call__(self, net: torch.nn.Module, x: torch.Tensor, scale: int = 1, tiled: bool = True) -> torch.Tensor:
        """Output of ``net`` for ``x``, on ``x``'s device, as an ordinary tensor (the network runs in
        inference mode; the result is copied out of it so that callers may modify it in place).
        ``tiled=False`` runs the whole frames at once, whatever their size."""
        N, _, H, W = x.shape
        tile = self.tile_size
        if not tiled or (H <= tile and W <= tile):
            return self._run(net, x).to(x.device).clone()
        out = weight = None
        m, s = self.margin, scale
        for y0, y1 in tile_spans(H, tile, self.blend):
            wy = blend_weights(y0, y1, H, self.blend).repeat_interleave(s)
            for x0, x1 in tile_spans(W, tile, self.blend):
                wx = blend_weights(x0, x1, W, self.blend).repeat_interleave(s)
                iy0, iy1, ix0, ix1 = max(0, y0 - m), min(H, y1 + m), max(0, x0 - m), min(W, x1 + m)
                y = self._run(net, x[..., iy0:iy1, ix0:ix1])
                y = y[..., (y0 - iy0) * s:(y1 - iy0) * s, (x0 - ix0) * s:(x1 - ix0) * s].to(x.device)
                if out is None:
                    out = x.new_zeros(N, y.shape[1], H * s, W * s, dtype=torch.float32)
                    weight = x.new_zeros(1, 1, H * s, W * s, dtype=torch.float32)
                w = (wy[:, None] * wx[None, :]).to(x.device)
                out[..., y0 * s:y1 * s, x0 * s:x1 * s].addcmul_(y, w)
                weight[..., y0 * s:y1 * s, x0 * s:x1 * s] += w
        return out.div_(weight)
