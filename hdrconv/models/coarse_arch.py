"""CoarseNet: alignment and HDR fusion in the image space, the first stage of the coarse-to-fine HDR video
network.

Reference
---------
Chen G., Chen C., Guo S., Liang Z., Wong K.-Y. K., Zhang L. (2021). HDR Video Reconstruction: A
Coarse-to-fine Network and A Real-world Benchmark Dataset. ICCV. §3.1 (input: the CRF replaced by gamma
2.2, ``L = F^-1(I) ** (1/2.2)``), §3.2 (CoarseNet after Kalantari & Ramamoorthi 2019: a flow network
warps the neighbours to the centre frame, a weight network blends the aligned images; Fig. 3), Eq. 1
(mu-law), Table 4 (3.1 M parameters).

Kalantari N. K., Ramamoorthi R. (2019). Deep HDR Video from Sequences with Alternating Exposures.
Computer Graphics Forum: the flow network sees the frames *exposure-aligned* (brought to one exposure
and clipped as that exposure clips, so that brightness differences are not mistaken for motion), one
network estimates the flows of all neighbours at once from the stacked frames, coarse to fine; the
weight network sees the aligned frames in both the LDR and the linear domain and outputs a weight per
frame and channel; ``H = sum_j w_j H_j / sum_j w_j`` with ``H_j = L_j ** 2.2 / t_j``. With two
exposures it merges frames i-1, i, i+1; with three, i-2 .. i+2, so that every exposure is seen on both
sides of the reference.

What the text leaves open and is decided here:

- **Flow network**: a SpyNet-like pyramid (Ranjan & Black 2017: per level a 7x7 CNN refines the
  upsampled flow from the frames warped by it; residual flows, bilinear warping with ``grid_sample``),
  joint over the neighbours as Kalantari'19's. SpyNet reaches its accuracy with a few hundred
  thousand parameters per level, which leaves CoarseNet's 3.1 M mostly to the weight network, as the
  paper's "smaller number of feature channels" than Kalantari'19 (9.0 M) asks. ``flow_scale`` > 1
  stops the pyramid at ``1/flow_scale`` of the frame and upsamples the flow (the CPU configuration).
- **Exposure alignment**: all frames are brought to the brightest exposure among them (the darker
  ones brightened and clipped as it clips), the rule that makes a dark and a bright frame agree
  wherever both see the scene.
- **Weight network**: a three-scale U-Net; its input is each aligned frame and its radiance compressed
  by the mu-law (:func:`compress`), its output a factor in (0, 2) per frame and channel, 1 at the start,
  of ``merge``'s weight of the aligned pixel (:func:`merge_prior`: Debevec & Malik's hat weight, a
  neighbour's times its agreement with the centre frame), and the merge keeps ``merge``'s fallback where
  no frame is well exposed. Kalantari'19's network outputs the weights themselves; with the prior the
  network starts as ``merge`` and learns where to trust a frame more or less, and a clipped or black
  pixel, or a neighbour showing something else (a ghost), never gets weight. CPU configuration on the
  2-exposure validation clips (PSNR-mu, frames pre-aligned as :mod:`hdrconv.models.learned` does): at
  step 0, 30.47 dB with sigmoid weights, 34.10 with the hat weights alone, 38.40 with ``merge``'s
  weights (``merge`` itself: 38.40); 80 minutes of training on the hat prior reached 37.54 dB (CoarseNet
  alone 37.41), and the same weights under ``merge``'s prior 38.66.
- **Channel counts**: the supplementary material's layer tables are not available here; the defaults
  are chosen to give the 3.1 M parameters of Table 4 (3.13 M with 2 exposures).

Domains: frames ``(N, n, 3, H, W)`` gamma-2.2 LDR in [0, 1] (:data:`~hdrconv.color.conventions.
ALT_EXP_GAMMA`), ``stops`` ``(N, n)`` each frame's exposure in stops; output linear BT.709 radiance of the
centre frame in units of the EV 0 clipping level (a frame exposed at EV 0 clips at 1.0).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from hdrconv.color.conventions import ALT_EXP_GAMMA
from hdrconv.data.metrics import mu_law, mu_law_inverse
from hdrconv.models.blocks import conv_layer
from hdrconv.models.alignment import code_at
from hdrconv.models.merge import AGREES, agreement, pixel_weight, with_fallback

RADIANCE_SCALE = 8.0
"""Radiance that :func:`compress` maps to 1: the clipping level of the darkest frame of a +-3-stop cycle
(the widest the training data has, :data:`hdrconv.data.video.ALT_EXPOSURE_STOPS`)."""


def to_radiance(ldr: torch.Tensor, stops: torch.Tensor) -> torch.Tensor:
    """Gamma-2.2 frames ``(N, n, 3, H, W)`` exposed at ``stops`` ``(N, n)`` -> radiance in units of the EV 0
    clipping level, ``L ** 2.2 / 2 ** stops``."""
    return ldr.clamp(0, 1).pow(ALT_EXP_GAMMA) * torch.exp2(-stops).to(ldr.dtype)[..., None, None, None]


def match_exposure(ldr: torch.Tensor, stops: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Frames ``(N, n, 3, H, W)`` exposed at ``stops`` ``(N, n)`` as exposed at ``target`` ``(N, n)``
    (clipped at 1)."""
    gain = torch.exp2(target - stops).to(ldr.dtype)[..., None, None, None]
    return (ldr.clamp(0, 1).pow(ALT_EXP_GAMMA) * gain).clamp(0, 1).pow(1 / ALT_EXP_GAMMA)


def compress(radiance: torch.Tensor) -> torch.Tensor:
    """Radiance -> mu-law code (Eq. 1) of ``radiance / RADIANCE_SCALE``, not clipped: the networks' view
    of HDR, in which a stop weighs about the same from the shadows to the highlights."""
    return mu_law(radiance.clamp(min=0) / RADIANCE_SCALE)


def expand(code: torch.Tensor) -> torch.Tensor:
    """The inverse of :func:`compress`."""
    return mu_law_inverse(code.clamp(min=0)) * RADIANCE_SCALE


def flow_warp(x: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    """``x`` ``(N, C, H, W)`` sampled at each pixel plus ``flow`` ``(N, 2, H, W)`` (dx, dy in pixels),
    bilinear, edges repeated (a warped neighbour shows its border, not black, where it saw nothing)."""
    N, _, H, W = x.shape
    ys = torch.arange(H, device=x.device, dtype=torch.float32).view(1, H, 1)
    xs = torch.arange(W, device=x.device, dtype=torch.float32).view(1, 1, W)
    flow = flow.float()
    grid = torch.stack([2 * (xs + flow[:, 0]) / max(W - 1, 1) - 1, 2 * (ys + flow[:, 1]) / max(H - 1, 1) - 1], -1)
    return F.grid_sample(x.float(), grid, mode="bilinear", padding_mode="border", align_corners=True).to(x.dtype)


class FlowLevel(nn.Module):
    """One pyramid level of the flow network: 7x7 convolutions (SpyNet's) from the reference, the warped
    neighbours and the current flows to a residual flow per neighbour."""

    def __init__(self, frames: int, channels: tuple[int, ...]):
        super().__init__()
        layers: list[nn.Module] = []
        c_in = 3 * frames + 2 * (frames - 1)
        for c in channels:
            layers += [conv_layer(c_in, c, 7), nn.ReLU()]
            c_in = c
        layers.append(conv_layer(c_in, 2 * (frames - 1), 7))
        nn.init.zeros_(layers[-1].weight)  # zero flow at the start: the warp is the identity
        nn.init.zeros_(layers[-1].bias)
        self.body = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


class FlowNet(nn.Module):
    """Flows from the centre frame to each neighbour, coarse to fine (module docstring)."""

    def __init__(self, frames: int = 3, levels: int = 4, channels: tuple[int, ...] = (32, 64, 32, 16),
                 flow_scale: int = 1):
        super().__init__()
        self.frames, self.flow_scale = frames, flow_scale
        self.levels = nn.ModuleList(FlowLevel(frames, tuple(channels)) for _ in range(levels))

    @property
    def multiple(self) -> int:
        return self.flow_scale * 2 ** (len(self.levels) - 1)

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        """Exposure-aligned frames ``(N, n, 3, H, W)`` (H, W multiples of :attr:`multiple`) -> flows
        ``(N, n - 1, 2, H, W)`` from the centre frame to the others, in pixels."""
        N, n, _, H, W = frames.shape
        x = frames.reshape(N, n * 3, H, W)
        if self.flow_scale > 1:
            x = F.avg_pool2d(x, self.flow_scale)
        pyramid = [x]
        for _ in range(len(self.levels) - 1):
            pyramid.append(F.avg_pool2d(pyramid[-1], 2))
        c = n // 2
        flow = None
        for level, x in zip(self.levels, reversed(pyramid)):
            h, w = x.shape[-2:]
            flow = (x.new_zeros(N, 2 * (n - 1), h, w) if flow is None else
                    2 * F.interpolate(flow, size=(h, w), mode="bilinear", align_corners=False))
            views = x.view(N, n, 3, h, w)
            others = [j for j in range(n) if j != c]
            warped = [flow_warp(views[:, j], flow[:, 2 * i:2 * i + 2]) for i, j in enumerate(others)]
            flow = flow + level(torch.cat([views[:, c], *warped, flow], dim=1))
        if self.flow_scale > 1:
            flow = self.flow_scale * F.interpolate(flow, size=(H, W), mode="bilinear", align_corners=False)
        return flow.view(N, n - 1, 2, H, W)


class WeightNet(nn.Module):
    """Factors ``(N, n, 3, H, W)`` in (0, 2) of the aligned frames' prior weights (:func:`merge_prior`):
    a three-scale U-Net over the aligned LDR frames and their compressed radiance (H, W multiples of 4;
    module docstring)."""

    def __init__(self, frames: int = 3, channels: tuple[int, int, int] = (64, 128, 256)):
        super().__init__()
        c1, c2, c3 = channels
        self.frames = frames
        self.enc1 = nn.Sequential(conv_layer(6 * frames, c1, 3), nn.ReLU(), conv_layer(c1, c1, 3), nn.ReLU())
        self.enc2 = nn.Sequential(conv_layer(c1, c2, 3, stride=2), nn.ReLU(), conv_layer(c2, c2, 3), nn.ReLU())
        self.enc3 = nn.Sequential(conv_layer(c2, c3, 3, stride=2), nn.ReLU(), conv_layer(c3, c3, 3), nn.ReLU())
        self.up3 = conv_layer(c3, c2, 3)
        self.dec2 = nn.Sequential(conv_layer(2 * c2, c2, 3), nn.ReLU(), conv_layer(c2, c2, 3), nn.ReLU())
        self.up2 = conv_layer(c2, c1, 3)
        self.dec1 = nn.Sequential(conv_layer(2 * c1, c1, 3), nn.ReLU(), conv_layer(c1, c1, 3), nn.ReLU())
        self.out = conv_layer(c1, 3 * frames, 3)
        nn.init.zeros_(self.out.weight)  # a factor of 1: the prior weights alone at the start
        nn.init.zeros_(self.out.bias)

    def forward(self, aligned: torch.Tensor, radiance: torch.Tensor) -> torch.Tensor:
        N, n, _, H, W = aligned.shape
        e1 = self.enc1(torch.cat([aligned, compress(radiance)], dim=1).view(N, 6 * n, H, W))
        e2 = self.enc2(e1)
        e3 = self.enc3(e2)
        d2 = F.relu(self.up3(F.interpolate(e3, size=e2.shape[-2:], mode="bilinear", align_corners=False)))
        d2 = self.dec2(torch.cat([d2, e2], dim=1))
        d1 = F.relu(self.up2(F.interpolate(d2, size=e1.shape[-2:], mode="bilinear", align_corners=False)))
        d1 = self.dec1(torch.cat([d1, e1], dim=1))
        return 2 * torch.sigmoid(self.out(d1)).view(N, n, 3, H, W)


@torch.no_grad()
def merge_prior(aligned: torch.Tensor, radiance: torch.Tensor, stops: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor]:
    """``merge``'s weights of the aligned frames ``(N, n, 3, H, W)`` (gamma-2.2 signal and radiance),
    exposed at ``stops`` ``(N, n)``, around the centre one: each frame's hat weight
    (:func:`~hdrconv.models.merge.pixel_weight`), a neighbour's times its agreement with the centre
    frame (:func:`~hdrconv.models.merge.agreement`); and the fallback where none is well exposed, the
    brightest radiance of the centre frame and the neighbours that agree. ``(N, n, 1, H, W)`` and
    ``(N, 3, H, W)``."""
    n, c = aligned.shape[1], aligned.shape[1] // 2
    weights = pixel_weight(aligned, dim=2).unsqueeze(2)
    bound = radiance[:, c]
    for j in range(n):
        if j == c:
            continue
        common = torch.maximum(stops[:, c], stops[:, j]).view(-1, 1, 1, 1).to(radiance.dtype)
        agree = agreement(code_at(radiance[:, c], common), code_at(radiance[:, j], common)).unsqueeze(1)
        weights[:, j] *= agree
        bound = torch.maximum(bound, radiance[:, j] * (agree > AGREES))
    return weights, bound


class CoarseNet(nn.Module):
    """CoarseNet (§3.2, Fig. 3): ``frames`` consecutive LDR frames -> coarse HDR of the centre one.

    Parameters
    ----------
    frames
        Input frames: 3 for two alternating exposures, 5 for three (module docstring).
    flow_levels, flow_channels, flow_scale
        Pyramid levels and per-level channels of the flow network; the resolution divisor of its
        finest level.
    weight_channels
        Channels of the weight network's three scales.
    """

    def __init__(self, frames: int = 3, flow_levels: int = 4, flow_channels: tuple[int, ...] = (32, 64, 32, 16),
                 flow_scale: int = 1, weight_channels: tuple[int, int, int] = (64, 128, 256)):
        super().__init__()
        if frames < 3 or frames % 2 == 0:
            raise ValueError(f"CoarseNet merges an odd number of frames, at least 3, got {frames}")
        self.flow = FlowNet(frames, flow_levels, tuple(flow_channels), flow_scale)
        self.weights = WeightNet(frames, tuple(weight_channels))

    @property
    def multiple(self) -> int:
        """What the frame size must be a multiple of."""
        return max(self.flow.multiple, 4)

    def forward(self, ldr: torch.Tensor, stops: torch.Tensor) -> torch.Tensor:
        """``ldr`` ``(N, n, 3, H, W)``, ``stops`` ``(N, n)`` (module docstring) -> radiance ``(N, 3, H, W)``."""
        N, n = ldr.shape[:2]
        c = n // 2
        brightest = stops.amax(dim=1, keepdim=True).expand_as(stops)
        flows = self.flow(match_exposure(ldr, stops, brightest))
        others = [j for j in range(n) if j != c]
        aligned = [None] * n
        aligned[c] = ldr[:, c]
        for i, j in enumerate(others):
            aligned[j] = flow_warp(ldr[:, j], flows[:, i])
        aligned = torch.stack(aligned, dim=1)
        radiance = to_radiance(aligned, stops)
        prior, bound = merge_prior(aligned, radiance, stops)
        w = self.weights(aligned, radiance) * prior
        return with_fallback((w * radiance).sum(dim=1), w.sum(dim=1), bound)
