"""The exposure cycle of alternating-exposure footage: ``--ev`` parsing, and the estimate of ratios and
phase on clips made from a real HDR image (:mod:`tests.altexp_media`)."""

import pytest
import torch

from hdrconv.color.crf import CameraResponse
from hdrconv.errors import InputDataError, UsageError
from hdrconv.pipeline import exposures
from tests.altexp_media import encode_camera, radiance_frames

BT709 = CameraResponse("bt709")


@pytest.fixture(scope="module")
def moving():
    """10 frames panning 1 pixel a frame with a square moving 3 pixels a frame across them."""
    return radiance_frames(10, square=12)


@pytest.mark.parametrize("file_order, cycle, phase", [
    ([-2, 2], (-2, 2), 0),
    ([2, -2], (-2, 2), 1),
    ([-2, 0, 2], (-2, 0, 2), 0),
    ([0, 2, -2], (-2, 0, 2), 2),  # the wrong start: the estimate finds which frame is the darkest
    ([-2, 0, 2, 0], (-2, 0, 2, 0), 0),
    ([-1, 1], (-1, 1), 0),
])
def test_the_cycle_and_its_phase_are_recovered(moving, file_order, cycle, phase):
    found = exposures.estimate(list(encode_camera(moving, file_order)), BT709, None)
    assert found.phase == phase and found.source == "estimated"
    assert found.stops == pytest.approx(cycle, abs=0.1)
    assert [found.stop(i) for i in range(6)] == pytest.approx([file_order[i % len(file_order)] for i in range(6)],
                                                              abs=0.1)


def test_the_wrong_number_of_exposures_is_refused(moving):
    frames = list(encode_camera(moving, [-2, 2]))
    assert exposures.estimate(frames, BT709, 2).exposures == 2
    with pytest.raises(InputDataError, match="alternates 2 exposures .* --exposures says 3"):
        exposures.estimate(frames, BT709, 3)


def test_footage_that_does_not_alternate_is_refused(moving):
    with pytest.raises(InputDataError, match="does not alternate"):
        exposures.estimate(list(encode_camera(moving, [0])), BT709, None)


def test_exposure_changes_without_a_cycle_are_refused(moving):
    with pytest.raises(InputDataError, match="do not repeat in a cycle"):
        exposures.estimate(list(encode_camera(moving, [-2, 1, -1, 2, 0, -2, 2, -1, 0, 1])), BT709, None)


def test_too_few_frames_to_estimate(moving):
    with pytest.raises(InputDataError, match="too few to estimate .* --ev"):
        exposures.estimate(list(encode_camera(moving[:4], [-2, 2])), BT709, None)


@pytest.mark.parametrize("text, stops", [("-2,2", (-2, 2)), ("-2,0,2,0", (-2, 0, 2, 0)), ("1.5, -1.5", (1.5, -1.5))])
def test_ev_is_the_cycle_in_file_order(text, stops):
    assert exposures.parse_ev(text) == stops
    cycle = exposures.given(stops, 8, None)
    assert cycle.phase == 0 and [cycle.stop(i) for i in range(len(stops))] == list(stops)


@pytest.mark.parametrize("text", ["-2", "a,b", "-2,,2", "0,0", "-2,nan", "-20,20", ""])
def test_bad_ev_is_a_usage_error(text):
    with pytest.raises(UsageError, match="--ev"):
        exposures.parse_ev(text)


def test_ev_is_checked_against_exposures_and_the_clip_length():
    with pytest.raises(UsageError, match="2 distinct exposures, --exposures says 3"):
        exposures.given((-2, 2), None, 3)
    assert exposures.given((-2, 0, 2, 0), None, 3).exposures == 3
    with pytest.raises(InputDataError, match="fewer than one exposure cycle of 3"):
        exposures.given((-2, 0, 2), 2, None)


def test_a_large_frame_is_thinned_and_gives_the_steps_of_every_pixel(moving, monkeypatch):
    """Frames eight times the test clip's size (longest side 768 and more are thinned, to every second
    pixel here): the steps agree with those of every pixel, clipped samples still left out."""
    large = torch.nn.functional.interpolate(moving, scale_factor=8, mode="bilinear")
    assert max(large.shape[-2:]) >= 2 * exposures.ESTIMATE_SIZE * exposures.SAMPLES
    frames = list(encode_camera(large, [-2, 2]))
    thinned = exposures.steps(frames, BT709)
    monkeypatch.setattr(exposures, "SAMPLES", 10**6)
    every = exposures.steps(frames, BT709)
    assert thinned == pytest.approx(every, abs=0.02)
    assert thinned == pytest.approx([4, -4] * 4 + [4], abs=0.1)
