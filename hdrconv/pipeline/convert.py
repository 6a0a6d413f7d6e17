"""One conversion, streamed: decode -> model -> encode run concurrently with bounded queues.

Threads: the decoder fills ``frames_in`` (PyAV, then the conversion's stage), the model thread runs
the model through the window loop (:mod:`hdrconv.pipeline.windows`: windows with their context, the
state carried) and measures the light levels, the writer thread hands frames to ffmpeg. The queues hold a few frames at most, so
memory depends on the window, its context and the frame size, never on the length of the video. The main thread only reports progress and handles
Ctrl-C (and SIGTERM and SIGHUP, which :func:`hdrconv.errors.terminating_signals_interrupt` raises as
KeyboardInterrupt).

Nothing the user had is lost: the result is written to hidden temporary files beside the output and
renamed over it only when everything succeeded; on any error or interrupt they are removed.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Iterator

import torch

from hdrconv.color.bt2390 import eetf_BT2390_max_RGB
from hdrconv.color.conventions import PQ_PEAK_NITS, ContentLightLevel
from hdrconv.errors import InputDataError, Interrupted
from hdrconv.io.decode import VideoDecoder
from hdrconv.io.encode import X265_MIN_SIZE, EncodeSettings, HevcEncoder, remux
from hdrconv.io.hdr_metadata import LightLevelMeter, patch_content_light_sei
from hdrconv.io.paths import STDOUT, check_output, temp_paths
from hdrconv.io.probe import MediaInfo, probe
from hdrconv.models.base import Model
from hdrconv.pipeline import windows
from hdrconv.pipeline.memory import return_frames_to_the_system

Emit = Callable[[dict], None]

Stage = Callable[[Iterator[windows.Frame]], Iterator[windows.Frame]]
"""What a conversion does to the decoded frames before its model sees them (``hdrconv alt-exp``:
undo the camera response, mark each frame's exposure)."""

Prepare = Callable[[MediaInfo], tuple[dict, Stage | None]]
"""Called once the input is probed and before any frame is converted: returns what the ``start`` event
also reports and the :data:`Stage` of the frames; raises to refuse the input."""


@dataclass
class ConvertResult:
    input: str
    output: str
    frames: int
    seconds: float
    light: ContentLightLevel
    warnings: list[str] = field(default_factory=list)
    duration: float = 0.0
    """Seconds of video converted (first frame's start to last frame's end)."""

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0


class _Worker(threading.Thread):
    """A pipeline stage; the first exception of any stage stops them all and is re-raised."""

    def __init__(self, target, failed: list, stop: threading.Event, name: str):
        super().__init__(daemon=True, name=name)
        self._target_fn, self._failed, self._halt = target, failed, stop
        self.ended = threading.Event()
        """Set when the stage's work is over. Wait on this, not on ``join()``: a Ctrl-C that interrupts
        ``join()`` can mark a still running thread as stopped (the bpo-45274 clean-up in CPython 3.11's
        ``Thread._wait_for_tstate_lock`` releases the running thread's own lock), later joins then
        return at once, and the interpreter exits under a thread still freeing tensors: std::terminate,
        exit status -6 instead of 130 (1 run in 10 of the Ctrl-C test)."""

    def run(self):
        try:
            self._target_fn()
        except BaseException as e:  # noqa: BLE001 - handed to the main thread
            if not self._failed:
                self._failed.append(e)
            self._halt.set()
        finally:
            self.ended.set()


_END = object()


class _Stopped(Exception):
    """The pipeline stopped: the model thread ends without flushing the windows it holds."""


def _put(q: queue.Queue, item, stop: threading.Event) -> bool:
    while not stop.is_set():
        try:
            q.put(item, timeout=0.1)
            return True
        except queue.Full:
            continue
    return False


def _get(q: queue.Queue, stop: threading.Event):
    while not stop.is_set():
        try:
            return q.get(timeout=0.1)
        except queue.Empty:
            continue
    return _END


def _truncation(info: MediaInfo, decoder: VideoDecoder) -> str | None:
    """How the decoded video falls short of what the header promises, if it does.

    MP4 headers count the frames; Matroska headers give the video stream's duration. A frame or two of
    slack (or 1 %) covers rounding in either.
    """
    if info.frames_header and decoder.decoded < info.frames_header - max(2, info.frames_header // 100):
        return f"decoded {decoder.decoded} of the {info.frames_header} frames its header promises"
    if info.video_duration and decoder.span < info.video_duration - max(2 / info.fps, info.video_duration / 100):
        return (f"decoded {decoder.decoded} frames covering {decoder.span:.2f} s of the "
                f"{info.video_duration:.2f} s its header promises")
    return None


def _muxing(info: MediaInfo) -> str:
    """The muxing phase in words: what the final file takes from the source besides the video."""
    kinds = [name for name, kind in (("audio", "audio"), ("subtitles", "subtitle"))
             if any(s.type == kind for s in info.streams)]
    return "muxing " + "/".join(kinds) if kinds else "muxing"


def convert(input_path: str, output: str, model: Model, settings: EncodeSettings | None = None, *,
            force: bool = False, allow_truncated: bool = False, emit: Emit = lambda e: None,
            info: MediaInfo | None = None, cancel: threading.Event | None = None,
            prepare: Prepare | None = None) -> ConvertResult:
    """Convert ``input_path`` to HDR10 at ``output`` with ``model``; ``prepare`` (:data:`Prepare`)
    inspects the input first and sets up a stage between the decoder and the model.

    Events (:mod:`hdrconv.reporting`): ``start``, the phases ``starting``, ``converting``,
    ``finishing`` and ``muxing``, ``progress`` twice a second, ``warning``, ``done``.

    ``cancel``, set from another thread, stops the conversion as Ctrl-C would (:class:`Interrupted`):
    a conversion running outside the main thread never sees the KeyboardInterrupt itself.
    """
    settings = settings or EncodeSettings()
    info = info or probe(input_path)
    return_frames_to_the_system(info.width * model.scale, info.height * model.scale)
    if info.hdr:
        raise InputDataError(f"{input_path}: already HDR ({info.hdr_reason}); converting it again would be wrong")
    start, stage = prepare(info) if prepare is not None else ({}, None)
    decoder = VideoDecoder(info)
    if min(decoder.width, decoder.height) * model.scale < X265_MIN_SIZE:
        raise InputDataError(f"{input_path}: video is {info.width}x{info.height}, too small for HEVC: x265 "
                             f"encodes frames of at least {X265_MIN_SIZE}x{X265_MIN_SIZE}")
    container = check_output(input_path, output, force)
    video_tmp, out_tmp = temp_paths(output)
    time_base = None
    warnings: list[str] = []

    def warn(message: str) -> None:
        warnings.append(message)
        emit({"event": "warning", "message": message})

    emit({"event": "start", "input": input_path, "output": output, "model": model.name,
          "width": decoder.width * model.scale, "height": decoder.height * model.scale,
          "fps": info.fps, "frames": info.frames_expected, "colour": info.colour.decision, **start})
    if info.width % 2 or info.height % 2:
        warn(f"odd size {info.width}x{info.height}: HEVC 4:2:0 needs even dimensions, "
                        f"the output is {decoder.width}x{decoder.height} (last column/row dropped)")
    if info.interlaced:
        warn(f"interlaced video ({info.interlaced}): deinterlaced with bwdif, one frame per frame")

    stop = threading.Event()
    failed: list[BaseException] = []
    # two frames of slack per stage: enough to keep every stage busy, and the bound on memory
    frames_in: queue.Queue = queue.Queue(maxsize=2)
    frames_out: queue.Queue = queue.Queue(maxsize=2)
    meter = LightLevelMeter()
    peak = settings.mastering.max_nits
    # the first decoded frame fixes the time base the encoder needs; the decoder thread reports it
    first = threading.Event()
    encoder_box: list[HevcEncoder] = []
    # every frame is in the encoder's hands; x265 still encodes its lookahead (rc-lookahead 20 at
    # medium): 24 s of the 95 s of a 4 s 1080p clip on a loaded 2-core machine, with no frame moving
    flushing = threading.Event()
    nudged: list[int] = []

    def frames() -> Iterator[windows.Frame]:
        nonlocal time_base
        for f in decoder:
            if time_base is None:
                time_base = f.time_base
                first.set()
            yield windows.Frame(f.rgb, f.pts)

    def decode():
        # the stage in this thread, beside the model's: bench/alt_exp.py's merge 1.67 -> 1.71 fps (2
        # exposures) and 1.52 -> 1.59 (3) with alt-exp's camera response undone here
        for f in frames() if stage is None else stage(frames()):
            if not _put(frames_in, f, stop):
                return
        first.set()
        _put(frames_in, _END, stop)

    def decoded():
        while (item := _get(frames_in, stop)) is not _END:
            yield item
        if stop.is_set():
            raise _Stopped

    def run_model():
        try:
            with torch.inference_mode():
                for window, hdr in windows.run(model, decoded()):
                    # PQ ends at 10000 cd/m2; float16 frames for the encoder end at 65504
                    hdr = hdr.float().clamp_(0, PQ_PEAK_NITS).cpu()
                    if model.peak_nits > peak:  # what the file signals is what its display can show
                        # clamped: the float32 PQ round trip ends the EETF at 600.00003 for 600
                        hdr = eetf_BT2390_max_RGB(hdr, model.peak_nits, peak).clamp_(max=peak)
                    meter.update(hdr)
                    for pts, h in zip(window.timestamps[window.targets], hdr):
                        if not _put(frames_out, (pts, h), stop):
                            return
                    window = hdr = h = None  # let go before the loop makes the next window (windows.run)
        except _Stopped:
            return
        _put(frames_out, _END, stop)

    def write():
        while not first.wait(0.1):
            if stop.is_set():
                return
        if stop.is_set() or time_base is None:
            return
        enc = HevcEncoder(str(video_tmp), decoder.width * model.scale, decoder.height * model.scale,
                          time_base, info.frame_rate, settings)
        encoder_box.append(enc)
        enc.start()
        step = round(1 / (info.frame_rate * time_base)) if info.frame_rate else 1
        last_pts = None
        while True:
            item = _get(frames_out, stop)
            if item is _END:
                break
            pts, rgb = item
            pts = pts if pts is not None else (0 if last_pts is None else last_pts + step)
            if last_pts is not None and pts <= last_pts:
                # the muxer refuses a frame at (or before) the time of the one before it; moved one tick
                # of the time base later it is kept (dropped, the output would miss a frame of the source)
                nudged.append(pts)
                pts = last_pts + 1
            last_pts = pts
            enc.write(rgb, pts, step)
        if not stop.is_set():
            flushing.set()
            enc.finish()

    def phase(name: str, message: str) -> None:
        emit({"event": "phase", "phase": name, "message": message, "input": input_path})

    def progress() -> None:
        now = time.monotonic()
        done = encoder_box[0].frames if encoder_box else 0
        emit({"event": "progress", "frames": done, "total": info.frames_expected,
              "fps": done / (now - t0) if now > t0 else 0.0})

    phase("starting", "starting encoder")
    t0 = time.monotonic()
    workers = [_Worker(decode, failed, stop, "decode"), _Worker(run_model, failed, stop, "model"),
               _Worker(write, failed, stop, "encode")]
    try:
        for w in workers:
            w.start()
        last_emit, converting, finishing = 0.0, False, False
        while not all(w.ended.is_set() for w in workers):
            workers[-1].ended.wait(timeout=0.25)
            if time.monotonic() - last_emit >= 0.5:
                last_emit = time.monotonic()
                progress()
            if not converting and encoder_box and encoder_box[0].frames:
                converting = True
                phase("converting", "converting")
            if not finishing and flushing.is_set():
                finishing = True
                progress()  # the last frames: the bar is full while x265 finishes
                phase("finishing", "encoding the last frames")
            if failed:
                break
            if cancel is not None and cancel.is_set():
                raise KeyboardInterrupt
        if failed:
            raise failed[0]
        if not finishing:
            progress()
        if decoder.decoded == 0:
            raise InputDataError(f"{input_path}: no video frame could be decoded")
        if decoder.bad_packets:
            warn(f"{decoder.bad_packets} damaged video packet(s) skipped")
        if nudged:
            warn(f"{len(nudged)} frame(s) with the timestamp of the frame before them moved "
                 f"{time_base} s later (first at {float(nudged[0] * time_base):.3f} s)")
        truncated = _truncation(info, decoder)
        if truncated:
            if not allow_truncated:
                raise InputDataError(f"{input_path}: {truncated} (truncated file?); "
                                     "use --allow-truncated to convert what is there")
            warn(f"{input_path}: {truncated} (truncated file?)")
        light = meter.result()
        if patch_content_light_sei(video_tmp, light) == 0:
            raise RuntimeError("x265 wrote no content-light-level SEI to patch")
        # standard output cannot be renamed onto: stage 2 streams straight to it
        target = STDOUT if output == STDOUT else str(out_tmp)
        phase("muxing", _muxing(info))
        for w in remux(str(video_tmp), info, target, container, light, settings.mastering):
            warn(w)
        if output != STDOUT:
            os.replace(out_tmp, output)
    except KeyboardInterrupt as e:
        raise Interrupted.of(e) from None
    finally:
        stop.set()
        for enc in encoder_box:
            enc.abort()
        for w in workers:
            w.join(timeout=10)
        for p in (video_tmp, out_tmp):
            p.unlink(missing_ok=True)
    seconds = time.monotonic() - t0
    result = ConvertResult(input_path, output, decoder.decoded, seconds, light, warnings, decoder.span)
    emit({"event": "done", "input": input_path, "output": output, "frames": result.frames,
          "seconds": round(seconds, 3), "duration": round(result.duration, 3), "fps": round(result.fps, 3),
          "max_cll": light.max_cll, "max_fall": light.max_fall, "warnings": warnings})
    return result
