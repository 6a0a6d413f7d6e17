"""What pyproject.toml cannot say: the top-level ``presets/`` folder ships inside the package, as the
data files of ``hdrconv.presets`` (installed as ``hdrconv/presets/*.toml``). Everything else about the
package is in pyproject.toml."""

from setuptools import find_packages, setup

setup(packages=find_packages(include=["hdrconv*"]) + ["hdrconv.presets"],
      package_dir={"hdrconv.presets": "presets"},
      package_data={"hdrconv": ["weights/*"], "hdrconv.presets": ["*.toml"]})
