import numpy as np
import torch

from hdrconv.data.scenes import graphics_scenes, load_scenes
from hdrconv.io.hdr_image import list_hdr_images
from hdrconv.train.samplers import itm_batch
from tests.hdr_data import write_hdr_folder


def test_training_batches_are_8bit_sdr_and_pq_targets_seeded(tmp_path):
    paths = list_hdr_images(write_hdr_folder(tmp_path, ["a.exr", "b.exr"]))
    scenes = load_scenes(paths, 1024)
    a = itm_batch(scenes, np.random.default_rng(1), 6, 32)
    b = itm_batch(scenes, np.random.default_rng(1), 6, 32)
    sdr, pq = a
    assert sdr.shape == pq.shape == (6, 3, 32, 32)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert torch.equal(sdr * 255, torch.round(sdr * 255)) and 0 <= float(sdr.min()) and float(sdr.max()) <= 1
    assert 0 <= float(pq.min()) and float(pq.max()) <= 0.76  # PQ of the 1000 cd/m2 mastering peak is 0.7518


def test_training_batches_draw_only_from_the_chosen_tone_mappers(monkeypatch):
    import hdrconv.train.samplers as samplers

    drawn = []
    real = samplers.synthesize_SDR
    monkeypatch.setattr(samplers, "synthesize_SDR", lambda rel, nits, recipe: drawn.append(recipe.tone_mapper)
                        or real(rel, nits, recipe))
    samplers.itm_batch(graphics_scenes(1, seed=0), np.random.default_rng(0), 12, 32, ("hable", "eetf"))
    assert len(drawn) == 12 and set(drawn) == {"hable", "eetf"}


def test_alternating_exposure_clips_cycle_their_exposures_with_the_centre_radiance(tmp_path):
    from hdrconv.models.learned import CoarseToFine2, CoarseToFine3
    from hdrconv.train.config import TrainConfig
    from hdrconv.train.samplers import SAMPLERS, alt_exp_batch

    scenes = load_scenes(list_hdr_images(write_hdr_folder(tmp_path, ["a.exr"])), 1024)
    config = TrainConfig(model="c2f-2exp", data="", out="", steps=1, batch_size=8, patch=32)
    (ldr, stops), radiance = alt_exp_batch(scenes, np.random.default_rng(6), config, CoarseToFine2)
    (ldr_b, _), radiance_b = alt_exp_batch(scenes, np.random.default_rng(6), config, CoarseToFine2)
    assert ldr.shape == (8, 5, 3, 32, 32) and stops.shape == (8, 5) and radiance.shape == (8, 3, 32, 32)
    assert torch.equal(ldr, ldr_b) and torch.equal(radiance, radiance_b)
    assert all(set(s.abs().tolist()) <= {1, 2, 3} and torch.equal(s[::2], s[0].expand(3)) and s[0] == -s[1]
               for s in stops)
    assert {float(s[2] > 0) for s in stops} == {0.0, 1.0}  # the centre frame is low and high exposure
    # the centre LDR frame is its radiance through the camera, up to noise, the CRF error and clipping
    centre = ldr[:, 2].double()
    seen = (centre > 0.2) & (centre < 0.8)
    through = (radiance.double() * torch.exp2(stops[:, 2]).double().view(-1, 1, 1, 1)).clamp(0, 1)
    for c, t, m in zip(centre, through, seen):  # each clip's CRF is monotonic
        ranks = [np.argsort(np.argsort(v[m].numpy())) for v in (c, t)]
        assert np.corrcoef(*ranks)[0, 1] > 0.95
    (ldr3, stops3), _ = alt_exp_batch(scenes, np.random.default_rng(5), config, CoarseToFine3)
    assert ldr3.shape[1] == 7 and all(len(set(s.tolist())) == 3 for s in stops3)
    assert SAMPLERS["alt-exp"].objective is not None and SAMPLERS["alt-exp"].metric == "psnr_mu"


def test_alternating_exposure_clips_are_read_back_through_their_camera_and_some_are_still(tmp_path, monkeypatch):
    from hdrconv.color import transfer
    from hdrconv.models.learned import CoarseToFine2
    from hdrconv.train import samplers
    from hdrconv.train.config import TrainConfig

    scenes = load_scenes(list_hdr_images(write_hdr_folder(tmp_path, ["a.exr"])), 1024)
    config = TrainConfig(model="c2f-2exp", data="", out="", steps=1, batch_size=4, patch=32)
    monkeypatch.setattr(samplers, "ALT_EXP_CAMERAS", ("bt709",))
    monkeypatch.setattr(samplers, "H264_PROBABILITY", 0.0)
    monkeypatch.setattr(samplers, "STILL_CLIPS", 1.0)
    (ldr, stops), _ = samplers.alt_exp_batch(scenes, np.random.default_rng(2), config, CoarseToFine2)
    # the centre frame (not resampled) is a BT.709 camera's 8-bit codes, its response undone, in gamma 2.2
    codes = transfer.oetf_BT709(ldr[:, 2].double() ** 2.2) * 255
    assert float((codes - codes.round()).abs().max()) < 1e-3
    # from a tripod the frames of one exposure differ by noise alone (2 codes at most on average)
    assert all(float((clip[0] - clip[2]).abs().mean()) < 2 / 255 for clip in ldr)
    monkeypatch.setattr(samplers, "STILL_CLIPS", 0.0)
    (moving, _), _ = samplers.alt_exp_batch(scenes, np.random.default_rng(2), config, CoarseToFine2)
    assert max(float((clip[0] - clip[2]).abs().mean()) for clip in moving) > 4 / 255


def test_a_clean_capture_is_gamma_2_2_codes_whatever_cameras_and_compression_are_drawn(tmp_path, monkeypatch):
    from hdrconv.models.learned import CoarseToFine2
    from hdrconv.train import samplers
    from hdrconv.train.config import TrainConfig

    scenes = load_scenes(list_hdr_images(write_hdr_folder(tmp_path, ["a.exr"])), 1024)
    monkeypatch.setattr(samplers, "ALT_EXP_CAMERAS", ("bt709",))
    monkeypatch.setattr(samplers, "H264_PROBABILITY", 1.0)
    clips = {}
    for capture in samplers.CAPTURES:
        config = TrainConfig(model="c2f-2exp", data="", out="", steps=1, batch_size=4, patch=32, capture=capture)
        (ldr, _), _ = samplers.alt_exp_batch(scenes, np.random.default_rng(2), config, CoarseToFine2)
        codes = ldr[:, 2].double() * 255  # the centre frame is not resampled
        clips[capture] = float((codes - codes.round()).abs().max())
    assert clips["clean"] < 1e-4 and clips["realistic"] > 0.05


def test_video_itm_clips_have_exact_warps_a_bright_current_frame_and_are_seeded(tmp_path):
    from hdrconv.models.learned import TemporalITMModel
    from hdrconv.train.config import TrainConfig
    from hdrconv.train.losses import temporal_loss
    from hdrconv.train.samplers import VIDEO_FRAMES, sampler_for, video_itm_batch

    scenes = load_scenes(list_hdr_images(write_hdr_folder(tmp_path, ["a.exr", "b.exr"])), 1024)
    config = TrainConfig(model="temporal", data="", out="", steps=1, batch_size=6, patch=32, tone_mappers=("clip",))
    sdr, (pq, coords, valid) = video_itm_batch(scenes, np.random.default_rng(3), config)
    sdr_b, (pq_b, _, _) = video_itm_batch(scenes, np.random.default_rng(3), config)
    T = VIDEO_FRAMES
    assert sdr.shape == pq.shape == (6, T, 3, 32, 32) and coords.shape == (6, T - 1, 32, 32, 2)
    assert valid.shape == (6, T - 1, 32, 32) and valid.float().mean() > 0.5
    assert torch.equal(sdr, sdr_b) and torch.equal(pq, pq_b)
    assert torch.equal(sdr * 255, torch.round(sdr * 255)) and float(pq.max()) <= 0.76
    # the HDR targets move with the known warps (one grade for the clip); the SDR does not, its
    # exposure changes from frame to frame
    assert float(temporal_loss(pq, coords, valid)) < 0.01
    assert float(temporal_loss(sdr, coords, valid)) > 3 * float(temporal_loss(pq, coords, valid))
    # the current (last) frame is exposed high (+0.5 to +1.5 stops), the others at random (-1.5 to +0.5)
    mean = sdr.mean(dim=(2, 3, 4))
    assert (mean[:, -1] > mean[:, :-1].mean(dim=1)).float().mean() >= 5 / 6
    assert sampler_for(TemporalITMModel).draw is video_itm_batch


def test_video_itm_clips_from_a_tripod_hold_one_hdr_target_under_changing_exposures(tmp_path, monkeypatch):
    from hdrconv.train import samplers
    from hdrconv.train.config import TrainConfig

    scenes = load_scenes(list_hdr_images(write_hdr_folder(tmp_path, ["a.exr"])), 1024)
    config = TrainConfig(model="temporal", data="", out="", steps=1, batch_size=4, patch=32, tone_mappers=("clip",))
    monkeypatch.setattr(samplers, "STILL_CLIPS", 1.0)
    sdr, (pq, _, valid) = samplers.video_itm_batch(scenes, np.random.default_rng(4), config)
    assert float((pq - pq[:, :1]).abs().max()) < 1e-6 and float(valid.float().mean()) > 0.9
    assert float((sdr[:, -1] - sdr[:, 0]).abs().mean()) > 4 / 255  # the camera's exposure still changes
