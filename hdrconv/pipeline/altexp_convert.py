"""The per-file work of ``hdrconv alt-exp`` (:mod:`hdrconv.pipeline.altexp` has the command, its
checks and the overview): the camera response undone, the cycle found, the model's scene radiance
placed for HDR10 and written to EXR. Imports torch, so the command loads it only once its checks
passed."""

from __future__ import annotations

import itertools
import os
import shutil
import threading
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import OpenEXR
import torch

from hdrconv.color import crf as camera
from hdrconv.color.kernels import lookup
from hdrconv.data.grading import alt_exp_HDR10
from hdrconv.errors import OutputError, UsageError
from hdrconv.io.decode import VideoDecoder
from hdrconv.io.encode import EncodeSettings
from hdrconv.io.probe import MediaInfo
from hdrconv.io.stdin import STDIN
from hdrconv.models.base import Model, Window
from hdrconv.pipeline import exposures as cycles
from hdrconv.pipeline.altexp import WHITE_NITS_RANGE
from hdrconv.pipeline.convert import ConvertResult
from hdrconv.pipeline.options import AltExpOptions
from hdrconv.pipeline.run import build_model, convert_file
from hdrconv.pipeline.windows import Frame


class ExrFrames:
    """``--exr-dir``: each frame's radiance as ``DIR/STEM.NNNNNN.exr`` (float16 RGB, BT.709, units of
    the EV 0 clipping level). Written into a hidden folder inside ``DIR`` and moved into place only when
    the conversion succeeded (:meth:`commit`); otherwise removed (:meth:`discard`)."""

    def __init__(self, folder: str, stem: str, force: bool):
        self.folder, self.stem = Path(folder), stem
        if self.folder.exists() and not self.folder.is_dir():
            raise OutputError(f"--exr-dir {folder}: is not a folder")
        existing = self._existing()
        if existing and not force:
            raise OutputError(f"--exr-dir {folder}: {existing[0].name} already exists (use --force to overwrite)")
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            self.staging = Path(self.folder, f".{stem}.hdrconv-{os.getpid()}-{threading.get_ident()}")
            self.staging.mkdir()
        except OSError as e:
            raise OutputError(f"--exr-dir {folder}: cannot create files there ({e.strerror})") from None
        self.written = 0

    def _existing(self) -> list[Path]:
        if not self.folder.is_dir():
            return []
        return sorted(p for p in self.folder.glob(f"{self.stem}.*.exr") if p.name[len(self.stem) + 1:-4].isdigit())

    def name(self, index: int) -> str:
        return f"{self.stem}.{index:06d}.exr"

    def write(self, index: int, radiance: torch.Tensor) -> None:
        rgb = np.ascontiguousarray(radiance.float().clamp(0, 65504).permute(1, 2, 0).cpu().numpy().astype(np.float16))
        header = {"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage}
        with OpenEXR.File(header, {"RGB": rgb}) as f:
            f.write(str(self.staging / self.name(index)))
        self.written += 1

    def commit(self) -> None:
        for old in self._existing():  # --force: a longer earlier run's frames must not stay behind
            old.unlink()
        for p in sorted(self.staging.iterdir()):
            os.replace(p, self.folder / p.name)
        self.staging.rmdir()

    def discard(self) -> None:
        shutil.rmtree(self.staging, ignore_errors=True)


class SceneToDisplay(Model):
    """An ``alt-exp`` model as the conversion runs it: its scene radiance placed in cd/m2 for HDR10
    (module docstring), written to EXR on the way with ``--exr-dir``. :meth:`begin` sets what a file's
    levels depend on."""

    def __init__(self, inner: Model, white_nits: float, peak: float):
        self.inner, self.white_nits, self.peak = inner, white_nits, peak
        self.peak_nits = peak  # display() rolls off to the mastering peak: the conversion need not again
        self.name, self.window, self.context = inner.name, inner.window, inner.context
        self.temporal, self.scale, self.device = inner.temporal, inner.scale, inner.device
        self.task = inner.task
        self.stops: tuple[float, ...] = (0.0,)
        self.exr: ExrFrames | None = None

    def begin(self, cycle: cycles.ExposureCycle, exr: ExrFrames | None) -> None:
        self.stops, self.exr = cycle.stops, exr

    def to(self, device) -> "SceneToDisplay":
        self.inner.to(device)
        self.device = self.inner.device
        return self

    def initial_state(self) -> Any:
        return self.inner.initial_state()

    def display(self, radiance: torch.Tensor) -> torch.Tensor:
        """Scene radiance ``(N, 3, H, W)`` -> linear BT.2020 cd/m2 (module docstring)."""
        return alt_exp_HDR10(radiance, self.stops, self.peak, self.white_nits)

    def process(self, frames: torch.Tensor, state: Any) -> tuple[torch.Tensor, Any]:
        radiance, state = self.inner.process(frames, state)
        return self.display(radiance), state

    def process_window(self, window: Window, state: Any) -> tuple[torch.Tensor, Any]:
        radiance, state = self.inner.process_window(window, state)
        if self.exr is not None:
            for index, frame in zip(window.indices[window.targets], radiance):
                self.exr.write(index, frame)
        return self.display(radiance), state

    def parameters_count(self) -> int:
        return self.inner.parameters_count()


def build(name: str, options: AltExpOptions, settings: EncodeSettings) -> SceneToDisplay:
    if not WHITE_NITS_RANGE[0] <= options.white_nits <= WHITE_NITS_RANGE[1]:
        raise UsageError(f"--white-nits {options.white_nits:g}: must lie in {WHITE_NITS_RANGE[0]:g}.."
                         f"{WHITE_NITS_RANGE[1]:g} cd/m2")
    return SceneToDisplay(build_model(name, options.device, "alt-exp"), options.white_nits,
                          settings.mastering.max_nits)


def _cycle(info: MediaInfo, response: camera.CameraResponse, options: AltExpOptions) -> cycles.ExposureCycle:
    frames = (f.rgb for f in VideoDecoder(info))
    if options.ev is not None:
        stops = cycles.parse_ev(options.ev)
        read = sum(1 for _ in itertools.islice(frames, len(stops)))
        return cycles.given(stops, read, options.exposures)
    return cycles.estimate(itertools.islice(frames, cycles.ESTIMATE_FRAMES), response, options.exposures)


STAGE_TABLE = 65536
"""Entries of the table the stage reads (:func:`stage_table`). Nearest entry: on a fine ramp of
signals, within 2.2e-4 of the response and the power computed per pixel from a signal of 1/1023 up
(BT.709, at the break where its two segments do not quite meet; sRGB 5e-5, gamma 2.2 8e-6), a
twentieth of an 8-bit code; below that, where the 1/2.2 power is steepest, within 0.005 of a code
value no weight counts. 15 ms per 1080p frame against 127 ms computed per pixel."""


def stage_table(response: camera.CameraResponse, size: int = STAGE_TABLE) -> torch.Tensor:
    """``(1, size)``: the camera response undone and :data:`~hdrconv.color.conventions.ALT_EXP_GAMMA`
    applied (Chen et al. 2021, §3.1), at ``size`` signals evenly spaced over [0, 1]: a function of the
    signal alone, read with :func:`~hdrconv.color.kernels.lookup`."""
    return response.to_alt_exp_signal(torch.linspace(0, 1, size, dtype=torch.float64)).float()[None]


def _stage(response: camera.CameraResponse, cycle: cycles.ExposureCycle):
    table = stage_table(response)

    def stage(frames: Iterator[Frame]) -> Iterator[Frame]:
        for i, f in enumerate(frames):
            rgb = f.rgb.clamp(0, 1)
            coded = lookup(table.to(rgb.device), rgb.view(1, 1, -1, rgb.shape[-1])).view(rgb.shape)
            yield Frame(coded, f.timestamp, cycle.stop(i), f.cut)
    return stage


def convert_alt_exp(input: str, output: str, model: SceneToDisplay, settings: EncodeSettings,
                    options: AltExpOptions, emit, cancel: threading.Event | None,
                    info: MediaInfo | None = None) -> ConvertResult:
    """One file (:class:`~hdrconv.pipeline.run.Conversion` ``convert``)."""
    response = camera.parse(options.camera_response) if options.camera_response else None
    exr = None

    def prepare(info: MediaInfo):
        nonlocal exr
        r = response or camera.from_transfer_tag(info.colour.transfer)
        cycle = _cycle(info, r, options)
        if options.exr_dir is not None:
            exr = ExrFrames(options.exr_dir, "stdin" if input == STDIN else Path(input).stem, options.force)
        model.begin(cycle, exr)
        how = "--crf" if response else f"transfer tag {info.colour.transfer}"
        return {"exposure_cycle": cycle.as_dict(), "crf": r.spec, "crf_source": how}, _stage(r, cycle)

    try:
        result = convert_file(input, output, model, settings, force=options.force,
                              allow_truncated=options.allow_truncated, emit=emit, cancel=cancel, info=info,
                              prepare=prepare)
    except BaseException:
        if exr is not None:
            exr.discard()
        raise
    if exr is not None:
        exr.commit()
    return result
