from pathlib import Path

import numpy as np
import pytest
import torch

from hdrconv.io.hdr_image import list_hdr_images
from hdrconv.data.scenes import (VALIDATION_FILES, alt_exposure_clip_samples, graphics_scenes, itm_clip_samples,
                                itm_validation_samples, load_scenes, manifest_hash, split)
from hdrconv.data.synthesis import EVALUATION_TONE_MAPPERS
from hdrconv.train.samplers import itm_batch
from tests.hdr_data import write_hdr_folder


def test_split_names_the_held_out_files_of_the_shared_collection_else_every_fifth():
    ours = [Path(n) for n in ("a.exr", VALIDATION_FILES[0], "z.exr", VALIDATION_FILES[3])]
    train, val = split(ours)
    assert {p.name for p in val} == {VALIDATION_FILES[0], VALIDATION_FILES[3]}
    assert {p.name for p in train} == {"a.exr", "z.exr"}
    other = [Path(f"img{i:02d}.hdr") for i in range(11)]
    train, val = split(other)
    assert [p.name for p in val] == ["img00.hdr", "img05.hdr", "img10.hdr"]
    assert not set(train) & set(val) and len(train) + len(val) == 11
    assert len(VALIDATION_FILES) == len(set(VALIDATION_FILES)) == 7


def test_validation_files_exist_in_the_shared_collection():
    shared = Path(__file__).resolve().parents[3] / "shared" / "hdr"
    if not shared.is_dir():
        pytest.skip("the shared HDR collection is not beside this checkout")
    assert set(VALIDATION_FILES) <= {p.name for p in list_hdr_images(shared)}


def test_downscaling_and_manifest_hash(tmp_path):
    paths = list_hdr_images(write_hdr_folder(tmp_path, ["a.exr", "b.exr"], 48, 64))
    assert load_scenes(paths, 32)[0].image.shape == (3, 24, 32)
    h = manifest_hash(paths)
    write_hdr_folder(tmp_path, ["b.exr", "a.exr"])  # same names, different contents
    assert manifest_hash(paths) != h


def test_validation_samples_are_fixed(tmp_path):
    scenes = load_scenes(list_hdr_images(write_hdr_folder(tmp_path, ["a.exr"])), 64)
    s1, s2 = itm_validation_samples(scenes), itm_validation_samples(scenes)
    assert [s.name.split("/")[1] for s in s1 if s.group == "in-family"] == list(EVALUATION_TONE_MAPPERS)
    assert all(torch.equal(x.sdr, y.sdr) and torch.equal(x.hdr, y.hdr) for x, y in zip(s1, s2))
    c1, c2 = itm_clip_samples(scenes, frames=4), itm_clip_samples(scenes, frames=4)
    assert c1[0].sdr.shape == (4, 3, 24, 32) and torch.equal(c1[0].sdr, c2[0].sdr)
    assert c1[0].coords.shape == (3, 24, 32, 2)


def test_graphics_scenes_are_reproducible_saturated_and_train_like_photographs():
    a, b = graphics_scenes(3, seed=7, size=128), graphics_scenes(3, seed=7, size=128)
    assert [s.name for s in a] == ["graphics-0", "graphics-1", "graphics-2"]
    assert all(torch.equal(x.image, y.image) for x, y in zip(a, b))
    assert not torch.equal(a[0].image, graphics_scenes(1, seed=8, size=128)[0].image)
    image = torch.cat([s.image.flatten(1) for s in a], dim=1)
    assert image.shape[0] == 3 and float(image.min()) >= 0
    # saturated colours: many pixels with one channel at (or near) zero and another far above it
    rgb_max, rgb_min = image.amax(dim=0), image.amin(dim=0)
    assert ((rgb_min < 0.01 * rgb_max) & (rgb_max > 0)).float().mean() > 0.2
    sdr, pq = itm_batch(a, np.random.default_rng(0), 4, 64)
    assert sdr.shape == pq.shape == (4, 3, 64, 64) and torch.isfinite(pq).all()


def test_alternating_exposure_clips_are_graded_as_alt_exp_grades_and_cover_the_protocol(tmp_path):
    from hdrconv.data.grading import alt_exp_HDR10
    from hdrconv.data.protocol import alt_exp_conditions

    scenes = load_scenes(list_hdr_images(write_hdr_folder(tmp_path, ["a.exr"], 96, 128)), 128)
    samples = alt_exposure_clip_samples(scenes, exposures=2, frames=4)
    assert [s.name.split("/", 1)[1] for s in samples] == [c.name for c in alt_exp_conditions()]
    assert {s.group for s in samples} == {"in-family", "exposure", "curves"}
    known = samples[0]
    assert known.group == "in-family" and set(np.abs(known.exposures)) <= {1.0, 2.0, 3.0}
    # the known camera: where a frame is well exposed, its radiance graded as alt-exp grades it is the truth
    stops = torch.tensor(known.exposures).view(-1, 1, 1, 1)
    radiance = known.sdr.double() ** 2.2 * torch.exp2(-stops)
    graded = alt_exp_HDR10(radiance.float(), known.exposures)
    seen = ((known.sdr > 0.2) & (known.sdr < 0.8)).all(dim=1, keepdim=True).expand_as(graded)
    assert seen.float().mean() > 0.2
    error = (graded[seen] / known.hdr[seen].clamp(min=1e-3) - 1).abs()
    assert float(error.median()) < 0.02 and float(error.quantile(0.95)) < 0.1
    # the exposure group is the same clip 2 stops darker and brighter; the curves group changes the camera only
    by_name = {s.name.split("/", 1)[1]: s for s in samples}
    assert float(by_name["key+2"].hdr.mean()) > 4 * float(by_name["key-2"].hdr.mean())
    assert torch.equal(by_name["bt709-read-as-gamma2.2"].hdr, known.hdr)
    assert not torch.equal(by_name["bt709-read-as-gamma2.2"].sdr, known.sdr)
