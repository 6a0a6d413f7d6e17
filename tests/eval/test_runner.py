import pytest
import torch

from hdrconv.color.conventions import HDR_COLOURSPACE, REFERENCE_WHITE_NITS, SDR_COLOURSPACE
from hdrconv.color.gamut import RGB_to_RGB
from hdrconv.color.transfer import eotf_BT1886
from hdrconv.errors import UsageError
from hdrconv.eval.runner import evaluate, evaluation_files
from hdrconv.models.base import Model
from hdrconv.data.scenes import VALIDATION_FILES
from hdrconv.data.synthesis import EVALUATION_TONE_MAPPERS
from tests.hdr_data import write_hdr_folder


class _SDRAt(Model):
    """SDR white placed at ``white`` cd/m2: two such models differ only in brightness."""

    name = "sdr-at"

    def __init__(self, white):
        self.white = white
        self.name = f"sdr-at-{white}"

    def process(self, frames, state):
        return RGB_to_RGB(eotf_BT1886(frames) * self.white, SDR_COLOURSPACE, HDR_COLOURSPACE), state


class _Flickering(_SDRAt):
    """Brightness alternating frame to frame; the frame counter is its state."""

    window = 3

    def initial_state(self):
        return 0

    def process(self, frames, state):
        out, _ = super().process(frames, None)
        gains = torch.tensor([1.0 + 0.3 * ((state + i) % 2) for i in range(frames.shape[0])])
        return out * gains.view(-1, 1, 1, 1), state + frames.shape[0]


class _AltExp(_SDRAt):
    """Records the exposures its windows carry."""

    task = "alt-exp"
    exposures = ()

    def process_window(self, window, state):
        self.exposures += window.exposures
        return super().process_window(window, state)


def test_evaluation_uses_the_named_split_of_the_shared_collection_else_all(tmp_path):
    ours = write_hdr_folder(tmp_path / "ours", ["a.exr", VALIDATION_FILES[1]])
    assert [p.name for p in evaluation_files(ours)] == [VALIDATION_FILES[1]]
    other = write_hdr_folder(tmp_path / "other", ["a.exr", "b.exr"])
    assert [p.name for p in evaluation_files(other)] == ["a.exr", "b.exr"]


def test_models_side_by_side_on_images(tmp_path):
    data = write_hdr_folder(tmp_path, ["a.exr", "b.exr"])
    rows = evaluate([_SDRAt(REFERENCE_WHITE_NITS), _SDRAt(20.0)], data)
    assert [r.model for r in rows] == ["sdr-at-203.0", "sdr-at-20.0"]
    assert all(r.samples == 2 * len(EVALUATION_TONE_MAPPERS) for r in rows)  # every image with every tone mapper
    assert set(rows[0].mean) == {"psnr_pq", "ssim_pq", "delta_e_itp", "psnr_mu"}
    # SDR at the reference white of the grading beats SDR ten times too dark
    assert rows[0].mean["psnr_pq"] > rows[1].mean["psnr_pq"] + 5
    assert rows[0].mean["delta_e_itp"] < rows[1].mean["delta_e_itp"]
    d = rows[0].as_dict()
    assert d["metrics"]["psnr_pq"]["std"] >= 0 and d["kind"] == "analytic"
    groups = d["by_tone_mapper"]
    assert set(groups) == set(EVALUATION_TONE_MAPPERS)
    assert sum(g["psnr_pq"] for g in groups.values()) / len(EVALUATION_TONE_MAPPERS) == pytest.approx(rows[0].mean["psnr_pq"])


def test_clips_add_temporal_metrics_and_catch_flicker(tmp_path):
    data = write_hdr_folder(tmp_path, ["a.exr"], 64, 96)
    steady, flickering = evaluate([_SDRAt(REFERENCE_WHITE_NITS), _Flickering(REFERENCE_WHITE_NITS)], data, "clips")
    assert steady.samples == 1 and {"flicker", "warping_error"} <= set(steady.mean)
    assert flickering.mean["flicker"] > steady.mean["flicker"] + 0.1
    assert flickering.mean["warping_error"] > steady.mean["warping_error"]


def test_alternating_exposure_models_get_alternating_exposure_clips(tmp_path):
    data = write_hdr_folder(tmp_path, ["a.exr"], 64, 96)
    model = _AltExp(REFERENCE_WHITE_NITS)
    (row,) = evaluate([model], data)
    assert row.samples == 1 and "flicker" in row.mean and set(row.held_out) == {"exposure", "curves"}
    # each frame's exposure reaches the model: -s, +s, ... over the 8 frames of each of the 6 clips
    ev = model.exposures
    assert len(ev) == 6 * 8 and ev == ev[:2] * 24 and ev[0] == -ev[1] < 0
    with pytest.raises(UsageError):
        evaluate([_AltExp(1.0), _SDRAt(1.0)], data)
    with pytest.raises(UsageError):
        evaluate([_SDRAt(1.0)], data, mode="movies")
