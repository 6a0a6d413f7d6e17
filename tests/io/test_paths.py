"""Temporary names beside the output fit the folder's NAME_MAX for every legal output name."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hdrconv.io.paths import temp_name, temp_paths


@pytest.mark.parametrize("unit", ["a", "é", "視"])
def test_temporary_names_fit_name_max(tmp_path, unit):
    name_max = os.pathconf(tmp_path, "PC_NAME_MAX")
    for length in range(1, name_max + 1):
        stem = unit * ((length - 4) // len(unit.encode())) if length > 4 else ""
        out = tmp_path / (stem + ".mkv")
        if len(os.fsencode(out.name)) > name_max:
            continue
        for tmp in temp_paths(str(out)):
            assert tmp.parent == tmp_path and tmp.name.startswith(".")
            assert len(os.fsencode(tmp.name)) <= name_max, (length, tmp.name)
            tmp.write_bytes(b"")  # the file system agrees
            tmp.unlink()


def test_short_names_are_kept_and_long_ones_stay_apart(tmp_path):
    assert temp_name(tmp_path / "clip.mkv", "video.mkv").name == f".clip.mkv.hdrconv-{os.getpid()}.video.mkv"
    a, b = (temp_name(tmp_path / ("x" * 240 + end + ".mkv"), "video.mkv") for end in "ab")
    assert a != b and a.name.endswith(f".hdrconv-{os.getpid()}.video.mkv")
    assert temp_name(Path("-dash.mkv"), "tmp.mkv").parent == Path(".")
