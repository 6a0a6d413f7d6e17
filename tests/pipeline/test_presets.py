"""Presets: the built-in files, precedence default < preset < flags, and errors that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from hdrconv.color.conventions import MasteringDisplay
from hdrconv.errors import UsageError
from hdrconv.pipeline import presets


def test_builtin_presets_exist_and_the_default_is_the_foundation_default():
    assert {"hdr10-1000", "hdr10-4000", "fast-preview", "archival"} <= set(presets.builtin_names())
    default = presets.load()
    assert default.name == "hdr10-1000" and default.model == presets.DEFAULT_MODEL == "anchored"
    assert (default.settings.crf, default.settings.preset) == (18.0, "medium")
    # the ST 2086 default of the foundation: P3-D65, 1000 cd/m2, 0.0001 cd/m2
    assert default.settings.mastering == MasteringDisplay()
    assert presets.load("hdr10-4000").settings.mastering.max_nits == 4000
    assert presets.load("fast-preview").settings.preset == "ultrafast"
    archival = presets.load("archival").settings
    assert (archival.crf, archival.preset) == (12.0, "slow")


def test_flags_override_the_preset_which_overrides_the_default(tmp_path):
    user = tmp_path / "mine.toml"
    user.write_text('model = "bt2446a"\n[x265]\ncrf = 14\nparams = { aq-mode = 3, sao = false }\n'
                    '[mastering-display]\nprimaries = "BT.2020"\n')
    model, s = presets.resolve(str(user))
    assert model == "bt2446a" and s.crf == 14 and s.preset == "medium"  # preset left unset: default's
    assert s.x265_params == {"aq-mode": "3", "sao": "0"}
    assert s.mastering.red == (0.708, 0.292) and s.mastering.max_nits == 1000
    assert "aq-mode=3" in s.x265_param_string()
    model, s = presets.resolve(str(user), model="bt2408", crf=20, x265_preset="fast", peak=2000)
    assert model == "bt2408" and (s.crf, s.preset, s.mastering.max_nits) == (20, "fast", 2000)
    assert s.mastering.red == (0.708, 0.292)  # flags change only what they name


@pytest.mark.parametrize("text, words", [
    ("[x265]\ncfr = 18\n", "'x265.cfr'"),
    ("colour = 1\n", "'colour'"),
    ("[x265]\ncrf = 70\n", "x265.crf = 70: must be between 0 and 51"),
    ("[x265]\ncrf = \"high\"\n", "x265.crf = 'high': must be a number"),
    ("[x265]\npreset = \"quick\"\n", "x265.preset = 'quick': must be one of ultrafast"),
    ("[x265.params]\nmaster-display = \"x\"\n", "x265.params.master-display: set by hdrconv"),
    ("[mastering-display]\npeak = 50\n", "mastering-display.peak = 50"),
    ("[mastering-display]\nprimaries = \"sRGB\"\n", "mastering-display.primaries = 'sRGB'"),
    ("x265 = 3\n", "x265: must be a table"),
    ("[x265\ncrf = 1\n", "not valid TOML"),
])
def test_bad_user_presets_name_the_key(tmp_path, text, words):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(UsageError) as e:
        presets.load(str(path))
    assert words in str(e.value) and str(path) in str(e.value)
    assert e.value.code == 64


def test_unknown_names_and_bad_flags():
    with pytest.raises(UsageError, match="unknown preset 'ultrafast'.*--x265-preset"):
        presets.load("ultrafast")
    with pytest.raises(UsageError, match="--crf 99"):
        presets.resolve(crf=99)
    with pytest.raises(UsageError, match="--x265-preset turbo"):
        presets.resolve(x265_preset="turbo")


def test_missing_user_preset_file(tmp_path):
    with pytest.raises(Exception) as e:
        presets.load(str(tmp_path / "nope.toml"))
    assert e.value.code == 66 and "no such file" in str(e.value)


def test_every_builtin_preset_file_is_described():
    for p in presets.all_presets():
        assert p.description and Path(p.path).is_file()
        assert p.as_dict()["mastering"]["primaries"] == "P3-D65"


def test_preset_and_flags_reach_the_encoded_file(tmp_path):
    """hdr10-4000 with --crf 30: x265's own record of its options says CRF 30, the ST 2086 SEI 4000 cd/m2."""
    import av
    import numpy as np

    from hdrconv.cli import main
    from tests.media import make_clip

    src = make_clip(tmp_path / "in.mkv", size="64x36", seconds=0.25, audio=False)
    out = tmp_path / "out.mkv"
    assert main(["itm", str(src), str(out), "--preset", "hdr10-4000", "--crf", "30", "--x265-preset", "ultrafast",
                 "-q"]) == 0
    data = out.read_bytes()
    assert b"crf=30.0" in data and b"rc-lookahead=5" in data  # ultrafast's lookahead, not medium's 20
    with av.open(str(out)) as c:
        f = next(c.decode(c.streams.video[0]))
        md = next(bytes(s) for s in f.side_data if str(s.type).endswith("MASTERING_DISPLAY_METADATA"))
    # AVMasteringDisplayMetadata: 3 primaries + white point (8 AVRationals), min, max luminance
    num, den = np.frombuffer(md[72:80], "<i4")
    assert num / den == 4000

