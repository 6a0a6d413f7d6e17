"""Presets: named bundles of x265 and HDR10 settings, written in TOML.

The built-in presets are the files of the repository's ``presets/`` folder; a wheel installs them as
``hdrconv/presets/*.toml`` (see ``setup.py``). ``--preset`` takes a built-in name or the path of a
user's own file. A preset file has these keys, all optional (a key left out keeps the value of the
default preset, ``hdr10-1000``)::

    description = "one line for `hdrconv presets`"
    model = "fastitm"                # conversion model (see `hdrconv models`)

    [x265]
    crf = 18                         # constant rate factor, 0..51
    preset = "medium"                # x265 speed preset, ultrafast..placebo
    params = { aq-mode = 3 }         # further x265 parameters, passed on as they are

    [mastering-display]              # SMPTE ST 2086 mastering display colour volume
    primaries = "P3-D65"             # P3-D65, BT.2020 or BT.709 (colour-science's chromaticities)
    peak = 1000                      # cd/m2
    min = 0.0001                     # cd/m2

Precedence: the default preset < the chosen preset < command-line flags (:func:`resolve`).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hdrconv.color.conventions import MasteringDisplay
from hdrconv.errors import InputMissingError, UsageError

if TYPE_CHECKING:  # hdrconv.io.encode imports torch: loaded with the first preset, after the flags' checks
    from hdrconv.io.encode import EncodeSettings

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10 has no TOML parser in the standard library
    import tomli as tomllib

DEFAULT_PRESET = "hdr10-1000"
DEFAULT_MODEL = "anchored"
"""Chosen by the held-out numbers (README, "Models and how the default was chosen"): the first learned
model that beats BT.2446 Method A on every held-out group of the evaluation protocol (+1.25 dB PSNR-PQ
on their mean, a lower ΔE_ITP in each), is at least as colourful and contrasty as the SDR on the real
photographs, and flickers less than Method A on ``bench/flicker.py``'s clips."""

_PACKAGE = Path(__file__).resolve().parents[1]
PRESET_DIRS = (_PACKAGE / "presets", _PACKAGE.parent / "presets")
"""Where the built-in presets are: inside an installed package, else in the source checkout."""

X265_PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower",
                "veryslow", "placebo")

MASTERING_PRIMARIES = {"P3-D65": "P3-D65", "BT.2020": "ITU-R BT.2020", "BT.709": "ITU-R BT.709"}
"""Preset names of mastering display primaries -> colour-science RGB colourspace names."""

RESERVED_X265_PARAMS = {"hdr10", "hdr10-opt", "repeat-headers", "colorprim", "transfer", "colormatrix",
                        "range", "master-display", "max-cll"}
"""x265 parameters hdrconv sets itself: HDR10 signalling must match the pictures and the metadata."""

# ST 2086 fields are 16-bit (min) and 32-bit (peak) integers in 0.0001 cd/m2 units
_PEAK_RANGE = (100.0, 10000.0)
_MIN_RANGE = (0.0001, 6.5535)


@dataclass(frozen=True)
class Preset:
    name: str
    description: str
    path: str
    model: str
    settings: EncodeSettings

    def as_dict(self) -> dict:
        m = self.settings.mastering
        return {"name": self.name, "description": self.description, "path": self.path, "model": self.model,
                "crf": self.settings.crf, "x265_preset": self.settings.preset,
                "x265_params": dict(self.settings.x265_params),
                "mastering": {"primaries": primaries_name(m), "peak": m.max_nits, "min": m.min_nits}}


def mastering_display(primaries: str, peak: float, min_nits: float) -> MasteringDisplay:
    """A :class:`MasteringDisplay` with the chromaticities of a named colourspace (colour-science)."""
    from hdrconv.color._colour import colour

    space = colour.RGB_COLOURSPACES[MASTERING_PRIMARIES[primaries]]
    (r, g, b), w = space.primaries.tolist(), space.whitepoint.tolist()
    return MasteringDisplay(red=tuple(r), green=tuple(g), blue=tuple(b), white=tuple(w),
                            max_nits=float(peak), min_nits=float(min_nits))


def primaries_name(m: MasteringDisplay) -> str:
    """The preset name of ``m``'s primaries, or its chromaticities when they have none."""
    for name in MASTERING_PRIMARIES:
        ref = mastering_display(name, m.max_nits, m.min_nits)
        if (ref.red, ref.green, ref.blue, ref.white) == (m.red, m.green, m.blue, m.white):
            return name
    return f"R{m.red} G{m.green} B{m.blue} W{m.white}"


def _setting(key: str, value: Any) -> str:
    """How an error names a setting: ``--flag VALUE`` or ``table.key = VALUE`` as in the file."""
    return f"{key} {value}" if key.startswith("--") else f"{key} = {value!r}"


def _number(key: str, value: Any, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise UsageError(f"{_setting(key, value)}: must be a number")
    if not low <= value <= high:
        raise UsageError(f"{_setting(key, value)}: must be between {low:g} and {high:g}")
    return float(value)


def _choice(key: str, value: Any, choices) -> str:
    if value not in choices:
        raise UsageError(f"{_setting(key, value)}: must be one of {', '.join(choices)}")
    return value


def _table(key: str, value: Any) -> dict:
    if not isinstance(value, dict):
        raise UsageError(f"{key}: must be a table ([{key}] or {{ ... }})")
    return value


def _unknown(where: str, table: dict, known: set[str]) -> None:
    for k in table:
        if k not in known:
            name = f"{where}.{k}" if where else k
            raise UsageError(f"unknown key {name!r} (known: {', '.join(sorted(known))})")


def parse(data: dict, base: Preset, name: str, path: str) -> Preset:
    """Validate the TOML table ``data`` of a preset and apply it over ``base``.

    Every error is a :class:`UsageError` that names the offending key, dotted as in the file.
    """
    _unknown("", data, {"description", "model", "x265", "mastering-display"})
    description = data.get("description", "")
    if not isinstance(description, str):
        raise UsageError(f"description = {description!r}: must be a string")
    model = data.get("model", base.model)
    if not isinstance(model, str):
        raise UsageError(f"model = {model!r}: must be a model name")
    settings = base.settings

    x = _table("x265", data.get("x265", {}))
    _unknown("x265", x, {"crf", "preset", "params"})
    if "crf" in x:
        settings = replace(settings, crf=_number("x265.crf", x["crf"], 0, 51))
    if "preset" in x:
        settings = replace(settings, preset=_choice("x265.preset", x["preset"], X265_PRESETS))
    if "params" in x:
        params = dict(settings.x265_params)
        for k, v in _table("x265.params", x["params"]).items():
            if k in RESERVED_X265_PARAMS:
                raise UsageError(f"x265.params.{k}: set by hdrconv itself (HDR10 signalling); "
                                 "use [mastering-display] for the mastering display")
            if isinstance(v, bool):
                v = int(v)
            if not isinstance(v, (str, int, float)) or (isinstance(v, str) and (":" in v or "=" in v)):
                raise UsageError(f"x265.params.{k} = {v!r}: must be a number, true/false or a plain string")
            params[k] = str(v)
        settings = replace(settings, x265_params=params)

    md = _table("mastering-display", data.get("mastering-display", {}))
    _unknown("mastering-display", md, {"primaries", "peak", "min"})
    m = settings.mastering
    primaries = _choice("mastering-display.primaries", md.get("primaries", primaries_name(m)),
                        tuple(MASTERING_PRIMARIES))
    peak = _number("mastering-display.peak", md.get("peak", m.max_nits), *_PEAK_RANGE)
    low = _number("mastering-display.min", md.get("min", m.min_nits), *_MIN_RANGE)
    settings = replace(settings, mastering=mastering_display(primaries, peak, low))
    return Preset(name, description or base.description, path, model, settings)


def _builtin_dir() -> Path:
    for d in PRESET_DIRS:
        if (d / f"{DEFAULT_PRESET}.toml").is_file():
            return d
    raise InputMissingError(f"built-in presets not found (looked in {', '.join(map(str, PRESET_DIRS))})")


def builtin_names() -> list[str]:
    return sorted(p.stem for p in _builtin_dir().glob("*.toml"))


def _read(path: Path, label: str) -> dict:
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise InputMissingError(f"preset {label}: no such file") from None
    except OSError as e:
        raise InputMissingError(f"preset {label}: cannot read ({e.strerror})") from None
    except tomllib.TOMLDecodeError as e:
        raise UsageError(f"preset {label}: not valid TOML ({e})") from None


def _locate(name_or_path: str) -> tuple[Path, str]:
    """The file and the name of the preset ``name_or_path`` (a built-in name, or a ``.toml`` file)."""
    if name_or_path.endswith(".toml") or "/" in name_or_path or Path(name_or_path).is_file():
        return Path(name_or_path), Path(name_or_path).stem
    path = _builtin_dir() / f"{name_or_path}.toml"
    if not path.is_file():
        raise UsageError(f"unknown preset {name_or_path!r} (built-in: {', '.join(builtin_names())}; "
                         "x265 speed presets are set with --x265-preset)")
    return path, name_or_path


def load(name_or_path: str | None = None) -> Preset:
    """The preset ``name_or_path`` (a built-in name, or a ``.toml`` file), over the default preset."""
    from hdrconv.io.encode import EncodeSettings

    name_or_path = name_or_path or DEFAULT_PRESET
    path, name = _locate(name_or_path)
    data = _read(path, name_or_path) if name_or_path != DEFAULT_PRESET else None
    default_path = _builtin_dir() / f"{DEFAULT_PRESET}.toml"
    builtin_base = Preset("defaults", "", "", DEFAULT_MODEL, EncodeSettings())
    default = parse(_read(default_path, DEFAULT_PRESET), builtin_base, DEFAULT_PRESET, str(default_path))
    if data is None:
        return default
    try:
        return parse(data, default, name, str(path))
    except UsageError as e:
        raise UsageError(f"preset {name_or_path}: {e}") from None


def resolve(preset: str | None = None, *, model: str | None = None, crf: float | None = None,
            x265_preset: str | None = None, peak: float | None = None) -> tuple[str, EncodeSettings]:
    """Model name and encoder settings: the preset's values, overridden by the flags that were given.

    Flags are checked with the same rules as preset keys, and named as flags in errors, before any
    preset is read.
    """
    check_flags(crf=crf, x265_preset=x265_preset, peak=peak)
    p = load(preset)
    s = p.settings
    if crf is not None:
        s = replace(s, crf=float(crf))
    if x265_preset is not None:
        s = replace(s, preset=x265_preset)
    if peak is not None:
        s = replace(s, mastering=replace(s.mastering, max_nits=float(peak)))
    return model or p.model, s


def check_flags(preset: str | None = None, *, crf: float | None = None, x265_preset: str | None = None,
                peak: float | None = None) -> None:
    """The preset flags, checked alone (no preset parsed, no colour-science, no torch): ``preset``
    names a built-in preset or a file, the values are in range."""
    if preset is not None:
        _locate(preset)
    if crf is not None:
        _number("--crf", crf, 0, 51)
    if x265_preset is not None:
        _choice("--x265-preset", x265_preset, X265_PRESETS)
    if peak is not None:
        _number("--peak", peak, *_PEAK_RANGE)


def all_presets() -> list[Preset]:
    return [load(n) for n in builtin_names()]
