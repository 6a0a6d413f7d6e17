"""Models defined for the training tests only, so that they depend on no shipped network."""

from typing import ClassVar

import torch

from hdrconv.color.conventions import HDR_COLOURSPACE, REFERENCE_WHITE_NITS, SDR_COLOURSPACE
from hdrconv.color.gamut import RGB_to_RGB
from hdrconv.color.transfer import eotf_BT1886
from hdrconv.models import registry
from hdrconv.models.base import LearnedModel, Model


def register(cls):
    """:func:`hdrconv.models.registry.register`, and the name in the registry's table of names, which
    is checked before any model module is imported (:data:`~hdrconv.models.registry.MODULES`)."""
    registry.MODULES[cls.name] = (cls.task, cls.__module__)
    return registry.register(cls)


class _TinyNet(torch.nn.Module):
    def __init__(self, C: int = 8):
        super().__init__()
        self.body = torch.nn.Sequential(torch.nn.Conv2d(3, C, 3, padding=1), torch.nn.ReLU(),
                                        torch.nn.Conv2d(C, 3, 1))

    def forward(self, x):
        return self.body(x)


@register
class TinyITM(LearnedModel):
    name = "test-tiny-itm"
    summary = "two-layer CNN for the training tests"
    default_arch: ClassVar[dict] = {"C": 4}

    @classmethod
    def build_net(cls, **arch):
        return _TinyNet(**arch)


@register
class SDRWhiteAt203(Model):
    """Baseline for the tests: BT.1886 decode, SDR white at 203 cd/m2, BT.2020 primaries."""

    name = "test-sdr-at-203"
    summary = "SDR placed at 203 cd/m2, for the training tests"

    def process(self, frames, state):
        return RGB_to_RGB(eotf_BT1886(frames) * REFERENCE_WHITE_NITS, SDR_COLOURSPACE, HDR_COLOURSPACE), state
