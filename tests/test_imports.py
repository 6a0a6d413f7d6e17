"""Import directions between the packages, read from the source: every import statement of every
module, those inside functions included.

- ``hdrconv.models`` never imports ``hdrconv.pipeline``: a model is usable (trained, evaluated,
  benchmarked) without the conversion pipeline, and the pipeline depends on the model interface only;
- ``hdrconv.train`` and ``hdrconv.eval`` never import each other; what both need is ``hdrconv.data``,
  which imports neither.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

FORBIDDEN = {"models": ("pipeline",), "train": ("eval",), "eval": ("train",), "data": ("train", "eval")}
"""Package of hdrconv -> the packages of hdrconv it must not import."""


def imported(root: Path, package: str) -> dict[str, set[str]]:
    """Module name -> every name its import statements reach (``from a import b`` reaches ``a`` and
    ``a.b``; relative imports resolved), for each module of the package ``package`` below ``root``."""
    out = {}
    for path in sorted((root / package.replace(".", "/")).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        package_parts = parts[:-1]  # what a relative import starts from, for __init__ too
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                base = package_parts[:len(package_parts) - node.level + 1] if node.level else []
                module = ".".join(base + ([node.module] if node.module else []))
                names |= {module} | {f"{module}.{a.name}" for a in node.names}
        out[".".join(parts)] = names
    return out


def test_the_reader_finds_imports_inside_functions_and_relative_ones(tmp_path):
    (tmp_path / "pkg" / "sub").mkdir(parents=True)
    (tmp_path / "pkg" / "sub" / "__init__.py").write_text("from . import a\n")
    (tmp_path / "pkg" / "sub" / "m.py").write_text("import os\n\ndef f():\n    from ..other import x\n")
    assert imported(tmp_path, "pkg.sub") == {"pkg.sub": {"pkg.sub", "pkg.sub.a"},
                                             "pkg.sub.m": {"os", "pkg.other", "pkg.other.x"}}


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_import_directions(package):
    banned = tuple(f"hdrconv.{p}" for p in FORBIDDEN[package])
    modules = imported(ROOT, f"hdrconv.{package}")
    assert modules, package
    wrong = {m: sorted(n for n in names if n in banned or n.startswith(tuple(b + "." for b in banned)))
             for m, names in modules.items()}
    assert not {m: n for m, n in wrong.items() if n}
