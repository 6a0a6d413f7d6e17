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
