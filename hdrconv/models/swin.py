"""Swin transformer blocks: window self-attention with a learnable relative position bias, over
regular and shifted windows, shared by any architecture that aggregates features globally.

References
----------
- [Swin] Liu Z., Lin Y., Cao Y., Hu H., Wei Y., Zhang Z., Lin S., Guo B. (2021). Swin Transformer:
  Hierarchical Vision Transformer using Shifted Windows. ICCV. §3.2: self-attention in non-overlapping
  ``M x M`` windows; shifted window partitioning by ``(floor(M/2), floor(M/2))`` in alternate blocks,
  computed as a cyclic shift with an attention mask so that a token attends only to tokens that are
  adjacent in the unshifted image; Eq. (4): ``Attention(Q, K, V) = SoftMax(Q K^T / sqrt(d) + B) V``,
  ``B`` taken from a ``(2M - 1) x (2M - 1)`` table indexed by the relative offset of two tokens.
- [SwinIR] Liang J., Cao J., Sun G., Zhang K., Van Gool L., Timofte R. (2021). SwinIR: Image
  Restoration Using Swin Transformer. ICCVW, §3.2 Eq. (5)-(7): the same block for dense prediction at
  any image size (windows padded to a multiple of ``M``, the mask computed for the actual size).
- The video ITM supplementary (:mod:`hdrconv.models.temporal_arch`) writes the block as its Eq. 4-6:
  ``Q = X P_Q, K = X P_K, V = X P_V``; ``SoftMax(Q K^T / sqrt(d) + B) V`` for each of ``h`` heads,
  concatenated (MSA); ``X = MSA(LN(X)) + X, X = MLP(LN(X)) + X`` with a two-layer GELU MLP.

Tokens are ``(N, H, W, C)`` tensors; :class:`SwinBlock` pads ``H`` and ``W`` to multiples of ``M``
(the padding tokens are masked out of every window's attention, so they change nothing) and crops back.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

MASKED = -100.0
"""Added to the attention logits of token pairs that must not attend to each other: ``exp(-100)`` is
0 in float16, bfloat16 and float32 alike, and unlike ``-inf`` a row that is all masked (never the case
here: a token always sees itself) could not produce NaN."""


def window_partition(x: torch.Tensor, M: int) -> torch.Tensor:
    """``(N, H, W, C)`` tokens (``H``, ``W`` multiples of ``M``) -> ``(N * H/M * W/M, M * M, C)``, window
    by window in row-major order, tokens within a window in row-major order."""
    N, H, W, C = x.shape
    x = x.view(N, H // M, M, W // M, M, C).transpose(2, 3)
    return x.reshape(-1, M * M, C)


def window_reverse(windows: torch.Tensor, M: int, H: int, W: int) -> torch.Tensor:
    """The inverse of :func:`window_partition`: ``(N * H/M * W/M, M * M, C)`` -> ``(N, H, W, C)``."""
    C = windows.shape[-1]
    x = windows.view(-1, H // M, W // M, M, M, C).transpose(2, 3)
    return x.reshape(-1, H, W, C)


def relative_position_index(M: int) -> torch.Tensor:
    """``(M * M, M * M)``: for tokens ``i`` and ``j`` of a window (row-major), the entry of the
    ``(2M - 1)^2`` bias table of their offset ``(dy, dx) = (y_i - y_j, x_i - x_j)``, each in
    ``[-(M - 1), M - 1]``: ``(dy + M - 1) * (2M - 1) + dx + M - 1``."""
    ys, xs = torch.meshgrid(torch.arange(M), torch.arange(M), indexing="ij")
    ys, xs = ys.flatten(), xs.flatten()
    dy = ys[:, None] - ys[None, :] + (M - 1)
    dx = xs[:, None] - xs[None, :] + (M - 1)
    return dy * (2 * M - 1) + dx


def region_labels(H: int, W: int, M: int, shift: int, valid: tuple[int, int] | None = None) -> torch.Tensor:
    """``(H, W)`` label of the image region each token of the cyclically shifted ``H x W`` grid
    came from: the cyclic shift by ``-shift`` wraps the first ``shift`` rows and columns round to the
    bottom and right, so a shifted window there holds tokens of up to four regions that are not
    neighbours in the image. Tokens beyond ``valid = (h, w)`` (padding) get a label of their own per region."""
    h, w = valid or (H, W)
    rows = torch.zeros(H, dtype=torch.long)
    cols = torch.zeros(W, dtype=torch.long)
    # in unshifted coordinates: the first `shift` rows (columns) are those the shift wraps round to
    # the bottom (right), the image interior, then the padding
    rows[:shift], cols[:shift] = 1, 1
    rows[h:], cols[w:] = 2, 2
    labels = rows[:, None] * 3 + cols[None, :]
    return torch.roll(labels, (-shift, -shift), dims=(0, 1))


def attention_mask(H: int, W: int, M: int, shift: int, valid: tuple[int, int] | None = None) -> torch.Tensor | None:
    """``(H/M * W/M, M * M, M * M)`` additive mask of the windows of the (shifted) grid: 0 where two
    tokens of a window come from the same region (:func:`region_labels`), :data:`MASKED` where not;
    None when no window mixes regions (no shift, no padding)."""
    if not shift and (valid is None or valid == (H, W)):
        return None
    labels = window_partition(region_labels(H, W, M, shift, valid)[None, :, :, None], M)[..., 0]
    same = labels[:, :, None] == labels[:, None, :]
    return torch.zeros(same.shape).masked_fill_(~same, MASKED)


class WindowAttention(nn.Module):
    """Multi-head self-attention within windows with a learnable relative position bias ([Swin] §3.2
    Eq. 4, supplementary Eq. 4-5): ``dim`` channels split into ``num_heads`` heads of ``d = dim /
    num_heads``, ``P_Q, P_K, P_V`` one linear layer, the heads concatenated and projected."""

    def __init__(self, dim: int, window_size: int, num_heads: int):
        super().__init__()
        if dim % num_heads:
            raise ValueError(f"{dim} channels do not split into {num_heads} heads")
        self.window_size, self.num_heads = window_size, num_heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.relative_position_bias_table = nn.Parameter(torch.zeros((2 * window_size - 1) ** 2, num_heads))
        # [Swin]'s initialisation of the table: truncated normal, std 0.02
        nn.init.trunc_normal_(self.relative_position_bias_table, std=0.02)
        self.register_buffer("relative_position_index", relative_position_index(window_size), persistent=False)

    def bias(self) -> torch.Tensor:
        """``B`` of Eq. 4: ``(num_heads, M * M, M * M)``."""
        n = self.window_size ** 2
        return self.relative_position_bias_table[self.relative_position_index.view(-1)].view(n, n, -1).permute(2, 0, 1)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """``x`` ``(B, M * M, dim)`` windows of ``mask.shape[0]`` windows per image (when masked)."""
        B, n, C = x.shape
        q, k, v = self.qkv(x).view(B, n, 3, self.num_heads, C // self.num_heads).permute(2, 0, 3, 1, 4)
        bias = self.bias().to(q.dtype)
        if mask is not None:
            # windows of one image share the mask: (images, windows, heads, n, d) against (windows, heads, n, n)
            nw = mask.shape[0]
            q, k, v = (t.reshape(B // nw, nw, *t.shape[1:]) for t in (q, k, v))
            bias = bias[None] + mask.to(q.device, q.dtype)[:, None]
        # scaled_dot_product_attention scales by 1 / sqrt(d) and adds the float mask: Eq. 4 exactly
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=bias).reshape(B, self.num_heads, n, -1)
        return self.proj(out.transpose(1, 2).reshape(B, n, C))


class SwinBlock(nn.Module):
    """One Swin transformer block (supplementary Eq. 6, [Swin] §3.2 Eq. 3): ``X = MSA(LN(X)) + X``,
    ``X = MLP(LN(X)) + X``, the MSA over regular windows (``shift = 0``) or windows shifted by ``shift``
    (``floor(M / 2)`` in alternate blocks) with the attention mask. ``forward`` takes ``(N, H, W, C)``
    tokens of any size; a grid no larger than one window is never shifted ([Swin]: there is nothing to
    connect across)."""

    def __init__(self, dim: int, num_heads: int, window_size: int = 8, shift: int = 0, mlp_ratio: float = 4.0):
        super().__init__()
        if not 0 <= shift < window_size:
            raise ValueError(f"shift {shift} outside [0, window size {window_size})")
        self.window_size, self.shift = window_size, shift
        self.norm1 = nn.LayerNorm(dim)
        self.attn = WindowAttention(dim, window_size, num_heads)
        self.norm2 = nn.LayerNorm(dim)
        hidden = int(dim * mlp_ratio)
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim))
        self._masks: dict[tuple, torch.Tensor | None] = {}

    def mask(self, H: int, W: int, shift: int, valid: tuple[int, int]) -> torch.Tensor | None:
        """:func:`attention_mask` of the padded grid, kept per size: a video has one size."""
        key = (H, W, shift, valid)
        if key not in self._masks:
            self._masks[key] = attention_mask(H, W, self.window_size, shift, valid)
        return self._masks[key]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        N, h, w, C = x.shape
        M = self.window_size
        shift = self.shift if min(h, w) > M else 0
        y = self.norm1(x)
        # padding after the norm, as zeros: its tokens are masked out of every window
        y = F.pad(y, (0, 0, 0, -w % M, 0, -h % M))
        H, W = y.shape[1:3]
        if shift:
            y = torch.roll(y, (-shift, -shift), dims=(1, 2))
        windows = self.attn(window_partition(y, M), self.mask(H, W, shift, (h, w)))
        y = window_reverse(windows, M, H, W)
        if shift:
            y = torch.roll(y, (shift, shift), dims=(1, 2))
        x = x + y[:, :h, :w]
        return x + self.mlp(self.norm2(x))
