"""What a model costs the encoder: its own time per frame, and x265's speed on its output alone.

    python bench/encoder_cost.py [--seconds 3] [--models bt2408,bt2446a] [--no-grain]

On ``bench/throughput.py``'s 1080p photo clip: decodes every frame, runs each model over them through the
window loop (one torch thread, as the pipeline gives it beside x265), then encodes that model's frames
with the pipeline's encoder alone, nothing else running. Prints, per model, ms per frame of the model,
the encoder's fps on its output, the encoded size and the mean light level. The pipeline ratio of
``bench/throughput.py`` mixes both; this tells them apart (an expanding model brightens and amplifies
the clip's grain, which costs x265 bits and time).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import torch  # noqa: E402

import throughput  # noqa: E402
from hdrconv.io.decode import VideoDecoder  # noqa: E402
from hdrconv.io.encode import EncodeSettings, HevcEncoder  # noqa: E402
from hdrconv.io.probe import probe  # noqa: E402
from hdrconv.pipeline import windows  # noqa: E402
from hdrconv.pipeline.run import build_model  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--models", default="bt2408,bt2446a")
    ap.add_argument("--no-grain", action="store_true")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "clip.mp4"
        throughput.make_clip(src, a.seconds, grain=not a.no_grain, content="photo")
        info = probe(str(src))
        frames = list(VideoDecoder(info))
        width, height = frames[0].rgb.shape[-1], frames[0].rgb.shape[-2]
        step = round(1 / (info.frame_rate * frames[0].time_base))
        for name in a.models.split(","):
            model = build_model(name, "cpu")
            t = time.perf_counter()
            with torch.inference_mode():
                out = [(w.timestamps[w.targets][0], hdr[0].float().clamp(0, 10000))
                       for w, hdr in windows.run(model, (windows.Frame(f.rgb, f.pts) for f in frames))]
            model_s = time.perf_counter() - t
            path = Path(tmp) / f"{name}.mkv"
            enc = HevcEncoder(str(path), width, height, frames[0].time_base, info.frame_rate, EncodeSettings())
            t = time.perf_counter()
            enc.start()
            for pts, hdr in out:
                enc.write(hdr, pts, step)
            enc.finish()
            encode_s = time.perf_counter() - t
            mean = float(torch.stack([h.mean() for _, h in out]).mean())
            print(f"{name}: model {1000 * model_s / len(out):.0f} ms/frame ({torch.get_num_threads()} thread), "
                  f"encoder alone {len(out) / encode_s:.2f} fps, {path.stat().st_size / 1e6:.1f} MB, "
                  f"mean {mean:.0f} cd/m2")
    return 0


if __name__ == "__main__":
    sys.exit(main())
