import cv2
import numpy as np
import torch

from hdrconv.color.conventions import ALT_EXP_GAMMA
from hdrconv.models.alignment import align_to, code_at, radiance


def _scene(h=160, w=224, seed=0):
    rng = np.random.default_rng(seed)
    texture = cv2.GaussianBlur(rng.random((h + 40, w + 40, 3)).astype(np.float32), (0, 0), 2.0)
    texture = (texture - texture.min()) / (texture.max() - texture.min())
    return torch.from_numpy(0.02 + 0.4 * texture).permute(2, 0, 1)  # radiance: EV +1 clips at 0.5


def _camera(scene, stops):
    return (scene * 2.0**stops).clamp(0, 1) ** (1 / ALT_EXP_GAMMA)


def test_align_to_brings_differently_exposed_moved_frames_onto_the_reference():
    scene = _scene()
    crop = (slice(20, 180), slice(20, 244))
    moved = torch.roll(scene, shifts=(3, -5), dims=(1, 2))  # the camera moved 5 px right, 3 px up
    stops = [-1.0, 1.0, -1.0]
    frames = [_camera(moved[:, crop[0], crop[1]], stops[0]), _camera(scene[:, crop[0], crop[1]], stops[1]),
              _camera(moved[:, crop[0], crop[1]], stops[2])]
    aligned = align_to(frames, stops, 1)
    assert aligned[1] is frames[1] and all(a.shape == frames[1].shape for a in aligned)
    inner = (slice(12, -12), slice(12, -12))

    def mismatch(f):
        ref = code_at(radiance(frames[1], stops[1]), 1.0)
        return float((code_at(radiance(f, -1.0), 1.0) - ref)[inner].abs().mean())

    assert mismatch(frames[0]) > 0.02
    assert mismatch(aligned[0]) < 0.2 * mismatch(frames[0]) and mismatch(aligned[2]) < 0.2 * mismatch(frames[2])
