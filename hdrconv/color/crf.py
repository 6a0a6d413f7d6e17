"""Camera response functions (CRF) of alternating-exposure footage: code value -> relative exposure,
the curve ``hdrconv alt-exp --crf`` inverts before the frames are re-encoded with
:data:`~hdrconv.color.conventions.ALT_EXP_GAMMA` (Chen et al. 2021, §3.1).

``--crf`` names one: ``bt709`` (the BT.709 OETF, inverted), ``srgb`` (IEC 61966-2-1), ``gamma:G``
(``V ** G``) or a CSV file of ``code value, relative exposure`` rows (a measured response, e.g. by
Debevec & Malik's method); without it :func:`from_transfer_tag` reads the stream's transfer tag.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from hdrconv.color.conventions import ALT_EXP_GAMMA
from hdrconv.errors import InputDataError, InputMissingError, UsageError

if TYPE_CHECKING:  # torch is imported where a response is applied: --crf is checked before torch loads
    import torch

_TAGGED = {"bt709": "bt709", "smpte170m": "bt709", "bt2020-10": "bt709", "bt2020-12": "bt709",
           "iec61966-2-1": "srgb", "gamma22": "gamma:2.2", "gamma28": "gamma:2.8", "linear": "gamma:1"}
"""Stream transfer tag (FFmpeg's names) -> the response it declares; BT.601 and BT.2020 cameras use
the BT.709 OETF. Anything else (untagged above all) is taken as gamma 2.2."""

UNTAGGED = "gamma:2.2"


@dataclass(frozen=True)
class CameraResponse:
    """One camera response, inverted by :meth:`to_linear`."""

    spec: str
    """As given to ``--crf`` (a file by its path)."""
    gamma: float | None = None
    codes: np.ndarray | None = None
    exposures: np.ndarray | None = None
    """A table response: increasing code values in [0, 1] and their relative exposures, 1.0 at the
    largest code."""

    def to_linear(self, V: torch.Tensor) -> torch.Tensor:
        """Signal ``V`` in [0, 1] -> relative exposure, 1.0 where the signal clips."""
        import torch

        from hdrconv.color.transfer import eotf_sRGB, oetf_inverse_BT709

        if self.spec == "bt709":
            return oetf_inverse_BT709(V)
        if self.spec == "srgb":
            return eotf_sRGB(V)
        if self.gamma is not None:
            return V.clamp(0, 1) ** self.gamma
        return _interpolate(V.clamp(0, 1), torch.from_numpy(self.codes).to(V), torch.from_numpy(self.exposures).to(V))

    def to_alt_exp_signal(self, V: torch.Tensor) -> torch.Tensor:
        """Signal ``V`` in [0, 1] -> what the alt-exp models take (Chen et al. 2021, §3.1,
        ``F^-1(I) ** (1/2.2)``): the response undone, then :data:`~hdrconv.color.conventions.ALT_EXP_GAMMA`
        applied; ``hdrconv alt-exp``'s stage reads it from a table
        (:func:`hdrconv.pipeline.altexp_convert.stage_table`), the training clips compute it."""
        return self.to_linear(V).clamp(min=0) ** (1 / ALT_EXP_GAMMA)

    def to_signal(self, L: torch.Tensor) -> torch.Tensor:
        """The response itself, the inverse of :meth:`to_linear`: relative exposure ``L`` (clipped to
        [0, 1]) -> the signal the camera records, for synthesised footage
        (:func:`hdrconv.train.samplers.alt_exp_sample`)."""
        import torch

        from hdrconv.color._colour import colour
        from hdrconv.color.transfer import oetf_BT709

        L = L.clamp(0, 1)
        if self.spec == "bt709":
            return oetf_BT709(L)
        if self.spec == "srgb":
            return torch.from_numpy(colour.models.eotf_inverse_sRGB(L.cpu().numpy())).to(L)
        if self.gamma is not None:
            return L ** (1 / self.gamma)
        return _interpolate(L, torch.from_numpy(self.exposures).to(L), torch.from_numpy(self.codes).to(L)).clamp(0, 1)


def _interpolate(x: torch.Tensor, xp: torch.Tensor, fp: torch.Tensor) -> torch.Tensor:
    """``numpy.interp`` in torch (increasing ``xp`` covering [0, 1]): piecewise linear."""
    import torch

    i = torch.searchsorted(xp, x.contiguous()).clamp_(1, len(xp) - 1)
    x0, x1, f0, f1 = xp[i - 1], xp[i], fp[i - 1], fp[i]
    return f0 + (f1 - f0) * ((x - x0) / (x1 - x0))


def parse(spec: str) -> CameraResponse:
    """``--crf``: ``bt709``, ``srgb``, ``gamma:G`` or a CSV file."""
    name = spec.strip().lower()
    if name in ("bt709", "srgb"):
        return CameraResponse(name)
    if name.startswith("gamma:"):
        try:
            gamma = float(name[len("gamma:"):])
        except ValueError:
            gamma = float("nan")
        if not 0.1 <= gamma <= 10:
            raise UsageError(f"--crf {spec}: gamma:G wants a number G between 0.1 and 10")
        return CameraResponse(f"gamma:{gamma:g}", gamma=gamma)
    return _read_table(spec)


def _read_table(path: str) -> CameraResponse:
    p = Path(path)
    if not p.is_file():
        raise InputMissingError(f"--crf {path}: neither bt709, srgb, gamma:G nor a CSV file")
    rows = []
    try:
        with p.open(newline="") as f:
            for row in csv.reader(f):
                cells = [c.strip() for c in row if c.strip()]
                if not cells or cells[0].startswith("#"):
                    continue
                try:
                    rows.append((float(cells[0]), float(cells[1])))
                except (ValueError, IndexError):
                    if rows:  # a header line is allowed first only
                        raise InputDataError(f"--crf {path}: row {row!r} is not 'code value, relative exposure'") \
                            from None
    except (OSError, UnicodeDecodeError) as e:
        raise InputDataError(f"--crf {path}: cannot read it ({e})") from None
    if len(rows) < 2:
        raise InputDataError(f"--crf {path}: needs at least two 'code value, relative exposure' rows")
    table = np.array(sorted(rows))
    codes, exposures = table[:, 0], table[:, 1]
    if not (np.all(np.diff(codes) > 0) and np.all(np.diff(exposures) > 0) and exposures[0] >= 0):
        raise InputDataError(f"--crf {path}: code values and exposures must both increase, exposures >= 0")
    # integer code values (0..255, 0..1023) are normalised by the largest code of their bit depth
    top = codes[-1]
    scale = 1.0 if top <= 1 else float(2 ** int(np.ceil(np.log2(top + 1))) - 1)
    codes = codes / scale
    if codes[0] > 0:
        codes, exposures = np.r_[0.0, codes], np.r_[0.0, exposures]
    if codes[-1] < 1:
        codes, exposures = np.r_[codes, 1.0], np.r_[exposures, exposures[-1]]
    return CameraResponse(path, codes=codes.astype(np.float32), exposures=(exposures / exposures[-1]).astype(np.float32))


def from_transfer_tag(transfer: str) -> CameraResponse:
    """The response a stream's transfer tag declares (untagged: gamma 2.2)."""
    return parse(_TAGGED.get(transfer, UNTAGGED))
