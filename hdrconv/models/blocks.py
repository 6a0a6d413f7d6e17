"""Building blocks shared by the network architectures (``*_arch.py``).

References
----------
- [IMDN] Hui Z., Gao X., Yang Y., Wang X. (2019). Lightweight Image Super-Resolution with Information
  Multi-distillation Network. ACM Multimedia, §3.2 (contrast-aware channel attention).
- [GF] He K., Sun J., Tang X. (2013). Guided Image Filtering. IEEE TPAMI 35(6), Algorithm 1.
- [FGF] He K., Sun J. (2015). Fast Guided Filter. arXiv:1505.00996, Algorithm 2 (subsampled filter).
- [DGF] Wu H., Zheng S., Zhang J., Huang K. (2018). Fast End-to-End Trainable Guided Filter. CVPR
  (the guided filter as a differentiable upsampling layer).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from hdrconv.color.conventions import BT709_WEIGHTS
from hdrconv.color.gamut import apply_matrix


def conv_layer(in_channels: int, out_channels: int, kernel_size: int, stride: int = 1,
               dilation: int = 1) -> nn.Conv2d:
    """Convolution with bias and "same" zero padding (odd kernels)."""
    padding = (kernel_size - 1) // 2 * dilation
    return nn.Conv2d(in_channels, out_channels, kernel_size, stride=stride, padding=padding,
                     dilation=dilation, bias=True)


class ResidualBlock(nn.Module):
    """``x + conv(ReLU(conv(x)))``, 3x3, no normalisation (EDVR's ``ResidualBlockNoBN``: batch statistics of
    small patches do not describe whole frames)."""

    def __init__(self, channels: int):
        super().__init__()
        self.conv1 = conv_layer(channels, channels, 3)
        self.conv2 = conv_layer(channels, channels, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv2(F.relu(self.conv1(x)))


def pad_to_multiple(x: torch.Tensor, multiple: int) -> torch.Tensor:
    """``x`` ``(..., H, W)`` padded at the bottom and right by edge replication to multiples of
    ``multiple`` (a network with ``log2(multiple)`` halvings); crop the output back to ``H, W``."""
    H, W = x.shape[-2:]
    ph, pw = -H % multiple, -W % multiple
    if not ph and not pw:
        return x
    flat = x.reshape(-1, *x.shape[-3:])
    return F.pad(flat, (0, pw, 0, ph), mode="replicate").view(*x.shape[:-2], H + ph, W + pw)


def contrast_channels(x: torch.Tensor) -> torch.Tensor:
    """Per-channel contrast of ``(N, C, H, W)`` features: standard deviation plus mean over H x W.

    This is the global contrast information :math:`z_c = H_{GC}(x_c)` of [IMDN] §3.2, Eq. (5) of the
    IRNet paper. The IRNet paper typesets the square root over both terms; [IMDN], which defines the
    layer, and both papers' reference code take the root of the variance only, which is what is
    implemented here (population variance, i.e. divided by H x W). A variance floor of ``1e-12``
    (a standard deviation of ``1e-6``) keeps the gradient finite on constant channels, which a patch
    of clipped sky produces.
    """
    mean = x.mean(dim=(2, 3), keepdim=True)
    variance = (x - mean).pow(2).mean(dim=(2, 3), keepdim=True)
    return variance.clamp(min=1e-12).sqrt() + mean


class ContrastAwareChannelAttention(nn.Module):
    """Contrast-aware channel attention (CCA) layer of [IMDN] §3.2.

    The per-channel contrast (:func:`contrast_channels`) goes through a 1x1 convolution reducing the
    channels by ``reduction``, a ReLU, a 1x1 convolution back to ``channels`` and a sigmoid; the result
    rescales the input channels.
    """

    def __init__(self, channels: int, reduction: int = 16):
        super().__init__()
        hidden = max(1, channels // reduction)
        self.squeeze = nn.Conv2d(channels, hidden, 1)
        self.excite = nn.Conv2d(hidden, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = contrast_channels(x)
        return x * torch.sigmoid(self.excite(F.relu(self.squeeze(z))))


def box_filter(x: torch.Tensor, r: int) -> torch.Tensor:
    """Mean over the ``(2r + 1)^2`` window around each pixel of ``(N, C, H, W)``, the window clipped
    to the image at the borders (the normalisation of [GF] Algorithm 1, not zero padding)."""
    return F.avg_pool2d(x, 2 * r + 1, stride=1, padding=r, count_include_pad=False)


def guided_upsample(guide_low: torch.Tensor, p_low: torch.Tensor, guide: torch.Tensor, r: int = 1,
                    eps: float = 1e-4) -> torch.Tensor:
    """Fast guided filter [FGF] Algorithm 2: filter ``p_low`` guided by ``guide_low`` at low
    resolution and apply the local linear model ``q = A * I + b`` to the full-resolution ``guide``.

    ``guide_low`` is ``guide`` downsampled to the size of ``p_low`` (box/area downsampling, as in
    [FGF]); all are ``(N, C, h, w)`` with the same ``C`` (or ``C = 1`` for the guide). The
    coefficients ``A`` and ``b`` are box-averaged (radius ``r``), bilinearly upsampled and applied at
    full resolution, so the result follows the edges of ``guide`` [GF] §3. Differentiable in every
    input, so it trains end to end [DGF].
    """
    mean_i = box_filter(guide_low, r)
    mean_p = box_filter(p_low, r)
    cov_ip = box_filter(guide_low * p_low, r) - mean_i * mean_p
    var_i = box_filter(guide_low * guide_low, r) - mean_i * mean_i
    a = cov_ip / (var_i + eps)
    b = mean_p - a * mean_i
    size = guide.shape[-2:]
    mean_a = F.interpolate(box_filter(a, r), size=size, mode="bilinear", align_corners=False)
    mean_b = F.interpolate(box_filter(b, r), size=size, mode="bilinear", align_corners=False)
    return torch.addcmul(mean_b, mean_a, guide)


def soft_bound(x: torch.Tensor, lo: float, hi: float) -> torch.Tensor:
    """Map ``x`` smoothly into ``(lo, hi)`` (``lo < 0 < hi``): ``hi tanh(x / hi)`` above 0,
    ``-lo tanh(x / -lo)`` below; the identity to first order at 0, so zero stays zero."""
    return torch.where(x >= 0, hi * torch.tanh(x / hi), -lo * torch.tanh(x / -lo))


def piecewise_linear(knots: torch.Tensor, size: int) -> torch.Tensor:
    """Sample the piecewise-linear function through ``K`` equally spaced ``knots`` over [0, 1]
    (``(..., K)``) at ``size`` equally spaced points: ``(..., size)``."""
    lead = knots.shape[:-1]
    flat = knots.reshape(-1, 1, knots.shape[-1])
    table = F.interpolate(flat, size=size, mode="linear", align_corners=True)
    return table.reshape(*lead, size)


def soft_histogram(y: torch.Tensor, bins: int) -> torch.Tensor:
    """Normalised histogram of ``(N, 1, h, w)`` values in [0, 1] with ``bins`` triangular bins
    centred on ``linspace(0, 1, bins)``: ``(N, bins)``, each row summing to 1."""
    centres = torch.linspace(0, 1, bins, device=y.device, dtype=y.dtype).view(1, bins, 1)
    votes = (1 - (y.flatten(2) - centres).abs() * (bins - 1)).clamp(min=0)
    return votes.mean(dim=2)


def highlight_fractions(x: torch.Tensor, levels: tuple[float, ...], stride: int = 4,
                        adjust: Callable[[torch.Tensor], torch.Tensor] | None = None) -> torch.Tensor:
    """Fraction of the pixels of ``(N, 3, H, W)`` R'G'B' whose max(R', G', B') reaches each of
    ``levels``: ``(N, len(levels))``, on every ``stride``-th pixel of every ``stride``-th row of the
    full-resolution frame, after ``adjust`` of that subsample (FastITM's exposure compensation: per
    pixel, so it costs a sixteenth of the frame's).

    The thumbnail's area average blurs exactly the evidence that tells a clipping camera (a pile of
    pixels at 1.0 with a hard edge) from a tone curve with a soft shoulder (a smooth density up to
    1.0), and the two call for very different expansions. A regular subsample estimates the fractions
    as well as all pixels do, at a sixteenth of the memory traffic.
    """
    x = x[..., ::stride, ::stride]
    if adjust is not None:
        x = adjust(x)
    peak = x.amax(dim=1).flatten(1)
    thresholds = torch.tensor(levels, dtype=x.dtype, device=x.device)
    return (peak[:, :, None] >= thresholds).float().mean(dim=1)


def luma_BT709(rgb: torch.Tensor) -> torch.Tensor:
    """BT.709 luma ``Y'`` of ``(N, 3, H, W)`` R'G'B' as ``(N, 1, H, W)``."""
    w = torch.tensor([BT709_WEIGHTS], dtype=rgb.dtype, device=rgb.device)
    return apply_matrix(w, rgb)


class ThumbnailNet(nn.Module):
    """The learned part FastITM (:mod:`~hdrconv.models.fast_arch`) and AnchoredITM
    (:mod:`~hdrconv.models.anchored_arch`) share, all at 1/``downscale`` resolution: a global branch
    (three strided convolutions, mean and max pooling, the thumbnail luma histogram and the
    full-resolution highlight fractions, an MLP) whose code ``z`` feeds one linear head per global
    parameter, and a local branch (a small CNN conditioned on ``z``) that predicts one map. Subclasses
    name their heads and turn heads and map into their mapping; every head and the map's last layer
    start at zero, so a subclass starts as its analytic prior.

    ``heads`` maps each head's name to its width; the head is the attribute ``head_NAME``.
    """

    def __init__(self, heads: dict[str, int], features: int, global_features: int, bins: int,
                 downscale: int, highlight_levels: tuple[float, ...]):
        super().__init__()
        self.bins, self.downscale = bins, downscale
        self.highlight_levels = tuple(highlight_levels)
        g = global_features
        act = nn.LeakyReLU(0.1)
        # the global branch runs at 1/16 to 1/64 of the frame resolution: its width costs little
        self.encoder = nn.Sequential(conv_layer(4, g // 4, 3, stride=2), act,
                                     conv_layer(g // 4, g // 2, 3, stride=2), act,
                                     conv_layer(g // 2, g, 3, stride=2), act)
        self.mlp = nn.Sequential(nn.Linear(2 * g + bins + len(self.highlight_levels), g), act,
                                 nn.Linear(g, g), act)
        for name, width in heads.items():
            setattr(self, f"head_{name}", nn.Linear(g, width))
        self.condition = nn.Linear(g, features)
        self.local_in = conv_layer(4, features, 3)
        self.local_down = conv_layer(features, features, 3, stride=2)
        self.local_mid = nn.Sequential(conv_layer(features, features, 3, dilation=2), act,
                                       conv_layer(features, features, 3, dilation=4), act)
        self.local_up = conv_layer(features, features, 3)
        self.local_out = conv_layer(features, 1, 3)
        self.act = act
        for layer in [getattr(self, f"head_{name}") for name in heads] + [self.local_out]:
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)

    def thumbnail(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, 4, h, w)``: R'G'B' and luma area-averaged to 1/``downscale`` resolution."""
        h, w = -(-x.shape[-2] // self.downscale), -(-x.shape[-1] // self.downscale)
        low = F.adaptive_avg_pool2d(x, (h, w))
        return torch.cat([low, luma_BT709(low)], dim=1)

    def global_code(self, x: torch.Tensor, low: torch.Tensor,
                    adjust: Callable[[torch.Tensor], torch.Tensor] | None = None) -> torch.Tensor:
        """The global branch's code ``z`` ``(N, global_features)`` of the thumbnail ``low`` of ``x``;
        ``adjust`` is applied to the full-resolution subsample of the highlight fractions."""
        f = self.encoder(low)
        stats = [f.mean(dim=(2, 3)), f.amax(dim=(2, 3)), soft_histogram(low[:, 3:], self.bins)]
        if self.highlight_levels:
            stats.append(highlight_fractions(x, self.highlight_levels, adjust=adjust))
        return self.mlp(torch.cat(stats, dim=1))

    def local_map(self, low: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """The local branch's map ``(N, 1, h, w)`` at thumbnail resolution, before its bounding."""
        f0 = self.act(self.local_in(low))
        f1 = self.act(self.local_down(f0) + self.condition(z)[:, :, None, None])
        f1 = F.interpolate(self.local_mid(f1), size=f0.shape[-2:], mode="bilinear", align_corners=False)
        return self.local_out(self.act(self.local_up(f0 + f1)))
