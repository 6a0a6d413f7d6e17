"""Camera responses of ``hdrconv alt-exp --crf``: each inverse against colour-science, the CSV table,
the transfer-tag default and the errors."""

import numpy as np
import pytest
import torch

from hdrconv.color import crf, transfer
from hdrconv.color._colour import colour
from hdrconv.errors import InputDataError, InputMissingError, UsageError

SIGNAL = np.linspace(0, 1, 1025)


def _t(a):
    return torch.from_numpy(np.asarray(a, dtype=np.float32))


def test_inverse_BT709_OETF_matches_colour():
    np.testing.assert_allclose(transfer.oetf_inverse_BT709(_t(SIGNAL)).numpy(),
                               colour.models.oetf_inverse_BT709(SIGNAL), rtol=1e-5, atol=1e-7)


def test_sRGB_decoding_matches_colour():
    np.testing.assert_allclose(transfer.eotf_sRGB(_t(SIGNAL)).numpy(), colour.models.eotf_sRGB(SIGNAL),
                               rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("spec, reference", [
    ("bt709", lambda V: colour.models.oetf_inverse_BT709(V)),
    ("srgb", lambda V: colour.models.eotf_sRGB(V)),
    ("gamma:2.6", lambda V: colour.gamma_function(V, 2.6)),
    ("GAMMA:1", lambda V: V),
])
def test_each_named_response_inverts_as_colour_does(spec, reference):
    ours = crf.parse(spec).to_linear(_t(SIGNAL)).numpy()
    np.testing.assert_allclose(ours, reference(SIGNAL), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("spec, forward", [
    ("bt709", lambda L: colour.models.oetf_BT709(L)),
    ("srgb", lambda L: colour.models.eotf_inverse_sRGB(L)),
    ("gamma:2.2", lambda L: colour.gamma_function(L, 1 / 2.2)),
])
def test_each_named_response_records_as_colour_does_and_is_undone(spec, forward):
    response = crf.parse(spec)
    ours = response.to_signal(_t(SIGNAL)).numpy()
    np.testing.assert_allclose(ours, forward(SIGNAL), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(response.to_linear(_t(ours)).numpy(), SIGNAL, rtol=1e-4, atol=1e-6)


def test_a_table_response_records_through_its_interpolated_inverse(tmp_path):
    table = tmp_path / "camera.csv"
    table.write_text("".join(f"{c},{colour.models.eotf_sRGB(c / 255):.9f}\n" for c in range(0, 256, 15)))
    response = crf.parse(str(table))
    V = response.to_signal(_t(SIGNAL))
    assert float(V.min()) >= 0 and float(V.max()) <= 1
    np.testing.assert_allclose(response.to_linear(V).numpy(), SIGNAL, atol=1e-5)


def test_a_csv_table_of_8_bit_codes_is_interpolated(tmp_path):
    codes = np.arange(0, 256, 15)  # 0, 15, ..., 255: the sRGB curve sampled every 15 codes
    table = tmp_path / "camera.csv"
    table.write_text("code,exposure\n" + "".join(f"{c},{2 * colour.models.eotf_sRGB(c / 255):.9f}\n"
                                                 for c in codes))
    response = crf.parse(str(table))
    ours = response.to_linear(_t(SIGNAL)).numpy()
    # exposures are relative (1.0 at the top code); between samples the chord of a convex curve
    np.testing.assert_allclose(ours[::64], colour.models.eotf_sRGB(SIGNAL[::64]), atol=4e-3)
    np.testing.assert_allclose(response.to_linear(_t(codes / 255)).numpy(), colour.models.eotf_sRGB(codes / 255),
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("text, words", [
    ("0,0\n128,0.5\n100,0.7\n255,1\n", "must both increase"),
    ("0,0\n", "at least two"),
    ("0,0\n128,half\n255,1\n", "is not 'code value, relative exposure'"),
])
def test_a_bad_table_is_refused(tmp_path, text, words):
    table = tmp_path / "camera.csv"
    table.write_text(text)
    with pytest.raises(InputDataError, match=words):
        crf.parse(str(table))


def test_unknown_names_and_bad_gammas_are_refused(tmp_path):
    with pytest.raises(InputMissingError, match="neither bt709, srgb, gamma:G nor a CSV file"):
        crf.parse(str(tmp_path / "nope.csv"))
    for spec in ("gamma:abc", "gamma:0", "gamma:"):
        with pytest.raises(UsageError, match="gamma:G"):
            crf.parse(spec)


@pytest.mark.parametrize("tag, spec", [("bt709", "bt709"), ("smpte170m", "bt709"), ("iec61966-2-1", "srgb"),
                                       ("unknown", "gamma:2.2"), ("gamma28", "gamma:2.8")])
def test_the_default_follows_the_transfer_tag(tag, spec):
    assert crf.from_transfer_tag(tag).spec == spec
