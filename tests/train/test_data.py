from pathlib import Path

import numpy as np
import pytest
import torch

from hdrconv.io.hdr_image import list_hdr_images
from hdrconv.train.data import (VALIDATION_FILES, graphics_scenes, itm_batch, itm_clip_samples,
                                itm_validation_samples, load_scenes, manifest_hash, split)
from hdrconv.train.synthesis import EVALUATION_TONE_MAPPERS
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


def test_downscaling_and_manifest_hash(tmp_path):
    paths = list_hdr_images(write_hdr_folder(tmp_path, ["a.exr", "b.exr"], 48, 64))
    assert load_scenes(paths, 32)[0].image.shape == (3, 24, 32)
    h = manifest_hash(paths)
    write_hdr_folder(tmp_path, ["b.exr", "a.exr"])  # same names, different contents
    assert manifest_hash(paths) != h


def test_validation_samples_are_fixed(tmp_path):
    scenes = load_scenes(list_hdr_images(write_hdr_folder(tmp_path, ["a.exr"])), 64)
    s1, s2 = itm_validation_samples(scenes), itm_validation_samples(scenes)
    assert [s.name.split("/")[1] for s in s1] == list(EVALUATION_TONE_MAPPERS)
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


def test_training_batches_draw_only_from_the_chosen_tone_mappers(monkeypatch):
    import hdrconv.train.data as data

    drawn = []
    real = data.synthesize_SDR
    monkeypatch.setattr(data, "synthesize_SDR", lambda rel, nits, recipe: drawn.append(recipe.tone_mapper)
                        or real(rel, nits, recipe))
    data.itm_batch(data.graphics_scenes(1, seed=0), np.random.default_rng(0), 12, 32, ("hable", "eetf"))
    assert len(drawn) == 12 and set(drawn) == {"hable", "eetf"}
