"""Training losses.

ITM networks output the PQ-coded BT.2020 R'G'B' signal and :data:`LOSSES` compare it with the target as
it is: PQ is close to perceptually uniform over 0.001-10 000 cd/m2 (SMPTE ST 2084 was fitted to the
Barten contrast-sensitivity model), so an error in its code values weighs shadows and highlights alike,
which is why the HDRTV papers (HDRTVNet, IRNet) train with L1 on it.

Alternating-exposure networks output scene radiance; :func:`coarse_to_fine_loss` applies the chosen
loss of :data:`LOSSES` after the mu-law tone curve (Chen et al. 2021, §3.2 Eq. 1, mu = 5000) of the
radiance normalised as :func:`hdrconv.data.metrics.psnr_mu` normalises the validation's cd/m2.

The recurrent video ITM network (``temporal``) outputs PQ sequences; :func:`video_itm_loss` adds to the
chosen reconstruction loss the :func:`temporal_loss` of consecutive outputs under the clips' known warps.
"""

from __future__ import annotations

from typing import Callable

import torch

from hdrconv.color.conventions import REFERENCE_WHITE_NITS
from hdrconv.data.grading import MASTERING_PEAK_NITS
from hdrconv.data.metrics import mu_law, warp_backward

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


NOT_WELL_EXPOSED_FLOOR = 0.01
"""Least fraction of not well-exposed pixels the RefineNet term is normalised by (Eq. 6): a batch
exposed well everywhere has nothing to refine (the output is CoarseNet's there), and the floor bounds
that batch's weight to 100 times the plain mean."""


def tonemap_radiance(radiance: torch.Tensor) -> torch.Tensor:
    """mu-law (Eq. 1) of radiance in units of the EV 0 clipping level placed at the reference white and
    normalised by the mastering peak, clipped to [0, 1] (the domain of :func:`~hdrconv.data.metrics.psnr_mu`)."""
    return mu_law((radiance * (REFERENCE_WHITE_NITS / MASTERING_PEAK_NITS)).clamp(0, 1))


def coarse_to_fine_loss(output: tuple[torch.Tensor, torch.Tensor, torch.Tensor], target: torch.Tensor,
                        loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] = l1_pq) -> torch.Tensor:
    """Training objective of the coarse-to-fine network, trained end to end (§3.2-3.4): ``output`` is
    (HDR ``H_i``, CoarseNet's ``H_i^c``, well-exposed mask ``M_i``), ``target`` the ground-truth radiance.
    CoarseNet's term ``L^c = loss(T(H_i^c), T(H~_i))`` plus RefineNet's ``L^r`` of Eq. 6, the loss of
    ``T(H_i)`` normalised by the fraction of not well-exposed pixels (at least
    :data:`NOT_WELL_EXPOSED_FLOOR`). The perceptual term of §3.3 is left out: its VGG16 features are
    not available here (no weights can be downloaded)."""
    hdr, coarse, mask = (o.float() for o in output)
    t = tonemap_radiance(target)
    refine = loss(tonemap_radiance(hdr), t) / (1 - mask).mean().clamp(min=NOT_WELL_EXPOSED_FLOOR)
    return loss(tonemap_radiance(coarse), t) + refine


TEMPORAL_WEIGHT = 1.0
"""Weight of :func:`temporal_loss` against the reconstruction loss in :func:`video_itm_loss`. Both are
mean absolute PQ errors, so 1 weighs a flicker like a per-frame error of the same size; a starting
value, not yet tuned (the long training run should check the flicker and warping error it buys)."""


def temporal_loss(output: torch.Tensor, coords: torch.Tensor, valid: torch.Tensor,
                  reference: torch.Tensor | None = None) -> torch.Tensor:
    """Short-term temporal loss (Lai et al. 2018, Learning Blind Video Temporal Consistency, §3.2 Eq. 3:
    ``sum M_t |O_t - W(O_{t-1})| / sum M_t``): each frame of ``output`` ``(N, T, C, H, W)`` against the
    previous one warped by the known motion (``coords`` ``(N, T - 1, H, W, 2)``: where each pixel of
    frame t + 1 is in frame t, as :class:`hdrconv.data.video.Clip`), over the pixels ``valid``
    ``(N, T - 1, H, W)`` where the warp holds (visible in both frames). With a ``reference`` sequence
    the reference's own residual is subtracted first (``(O_t - W(O_{t-1})) - (R_t - W(R_{t-1}))``):
    bilinear warping of real detail leaves the ground truth a residual that the output need not copy
    with a blur, so the loss is zero for the ground truth itself."""
    N, T = output.shape[:2]
    if T < 2:
        return output.new_zeros(())

    def residual(x: torch.Tensor) -> torch.Tensor:
        previous = x[:, :-1].reshape(N * (T - 1), *x.shape[2:])
        warped = warp_backward(previous, coords.reshape(N * (T - 1), *coords.shape[2:]))
        return x[:, 1:] - warped.view(N, T - 1, *x.shape[2:])

    r = residual(output.float())
    if reference is not None:
        r = r - residual(reference.float())
    m = valid.to(r.dtype)[:, :, None]
    return (r.abs() * m).sum() / (m.sum() * r.shape[2]).clamp(min=1)


def video_itm_loss(output: torch.Tensor, target: tuple[torch.Tensor, torch.Tensor, torch.Tensor],
                   loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] = l1_pq) -> torch.Tensor:
    """Training objective of the recurrent video ITM network: ``loss`` of every frame of the PQ
    ``output`` ``(N, T, 3, H, W)`` against its target, plus :data:`TEMPORAL_WEIGHT` times the
    :func:`temporal_loss` of the output relative to the target's, ``target`` = (PQ targets, coords,
    valid) of :func:`hdrconv.train.samplers.video_itm_batch`."""
    pq, coords, valid = target
    output = output.float()
    return loss(output, pq) + TEMPORAL_WEIGHT * temporal_loss(output, coords, valid, reference=pq)
