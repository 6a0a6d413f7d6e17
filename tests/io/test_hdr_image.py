import cv2
import numpy as np
import OpenEXR
import pytest

from hdrconv.errors import InputDataError, InputMissingError
from hdrconv.io.hdr_image import list_hdr_images, read_hdr_image


def _write_exr(path, channels):
    header = {"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage}
    with OpenEXR.File(header, channels) as f:
        f.write(str(path))


@pytest.fixture
def rgb():
    rng = np.random.default_rng(0)
    return (rng.random((6, 8, 3)) * [1.0, 50.0, 3000.0]).astype(np.float32)


def test_exr_rgb_roundtrip_keeps_channel_order_and_values(tmp_path, rgb):
    _write_exr(tmp_path / "a.exr", {"RGB": rgb})
    out = read_hdr_image(tmp_path / "a.exr")
    assert out.dtype == np.float32 and out.shape == (6, 8, 3)
    np.testing.assert_array_equal(out, rgb)


def test_exr_half_rgba_drops_alpha_and_cleans_invalid_values(tmp_path, rgb):
    rgba = np.concatenate([rgb, np.ones_like(rgb[..., :1])], axis=-1).astype(np.float16)
    rgba[0, 0, 0] = np.nan
    rgba[0, 1, 1] = -2.0
    rgba[0, 2, 2] = np.inf
    _write_exr(tmp_path / "b.exr", {"RGBA": rgba})
    out = read_hdr_image(tmp_path / "b.exr")
    assert out.shape == (6, 8, 3)
    assert out[0, 0, 0] == 0 and out[0, 1, 1] == 0 and out[0, 2, 2] == 0
    np.testing.assert_allclose(out[1:], rgb[1:], rtol=1e-3)


def test_exr_grey_is_replicated(tmp_path):
    y = np.linspace(0, 4, 20, dtype=np.float32).reshape(4, 5)
    _write_exr(tmp_path / "g.exr", {"Y": y})
    out = read_hdr_image(tmp_path / "g.exr")
    assert out.shape == (4, 5, 3)
    np.testing.assert_array_equal(out[..., 2], y)


def test_radiance_hdr_is_rgb_within_rgbe_precision(tmp_path, rgb):
    assert cv2.imwrite(str(tmp_path / "c.hdr"), np.ascontiguousarray(rgb[..., ::-1]))
    out = read_hdr_image(tmp_path / "c.hdr")
    # RGBE shares one exponent per pixel: 8-bit mantissa relative to the largest channel
    assert np.all(np.abs(out - rgb) <= rgb.max(axis=-1, keepdims=True) / 128)


def test_folder_listing_and_errors(tmp_path, rgb):
    _write_exr(tmp_path / "b.exr", {"RGB": rgb})
    assert cv2.imwrite(str(tmp_path / "a.HDR"), rgb)
    (tmp_path / "notes.txt").write_text("x")
    assert [p.name for p in list_hdr_images(tmp_path)] == ["a.HDR", "b.exr"]
    with pytest.raises(InputMissingError):
        read_hdr_image(tmp_path / "missing.exr")
    with pytest.raises(InputDataError):
        read_hdr_image(tmp_path / "notes.txt")
    (tmp_path / "bad.exr").write_bytes(b"not an exr")
    with pytest.raises(InputDataError):
        read_hdr_image(tmp_path / "bad.exr")
    with pytest.raises(InputMissingError):
        list_hdr_images(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputDataError):
        list_hdr_images(tmp_path / "empty")
