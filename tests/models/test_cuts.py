"""Scene cuts (hdrconv.models.cuts): the histogram test and the co-located-pixel test."""

import torch

from hdrconv.models.cuts import is_scene_cut, pixels_disagree


def test_a_scene_cut_is_a_jump_of_the_thumbnail_histogram():
    flat = torch.full((1, 4), 0.25)
    assert not is_scene_cut(flat + torch.tensor([[0.1, -0.1, 0.0, 0.0]]), flat)
    assert is_scene_cut(torch.tensor([[1.0, 0, 0, 0]]), flat)


def test_pixels_of_one_scene_agree_on_an_exposure_change_and_those_of_two_scenes_do_not():
    # half the pixels at the change, a minority moved by motion: one scene re-exposed
    one_scene = torch.tensor([0.4] * 5 + [0.45, 0.3, 1.5, -1.0, 0.9])
    assert not pixels_disagree(one_scene, one_scene.median())
    two_scenes = torch.linspace(-2, 2, 10)
    assert pixels_disagree(two_scenes, two_scenes.median())
