"""Training losses, on the PQ-coded BT.2020 R'G'B' signal that the networks output.

PQ is close to perceptually uniform over 0.001-10 000 cd/m2 (SMPTE ST 2084 was fitted to the Barten
contrast-sensitivity model), so an error in its code values weighs shadows and highlights alike, which
is why the HDRTV papers (HDRTVNet, IRNet) train with L1 on it.
"""

from __future__ import annotations

import torch

CHARBONNIER_EPSILON = 1e-3
"""Charbonnier smoothing, in PQ code values (about one 10-bit code value)."""


def l1_pq(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean absolute error of PQ signals."""
    return (output - target).abs().mean()


def charbonnier_pq(output: torch.Tensor, target: torch.Tensor, eps: float = CHARBONNIER_EPSILON) -> torch.Tensor:
    """Charbonnier loss sqrt((output - target)^2 + eps^2), mean (Lai et al. 2017, LapSRN, Eq. 1): L1
    with a smooth minimum, so that gradients do not flip sign at every pixel once errors are tiny."""
    return torch.sqrt((output - target) ** 2 + eps * eps).mean()


LOSSES = {"l1": l1_pq, "charbonnier": charbonnier_pq}
"""``hdrconv train --loss`` names."""
