"""Colour: the SDR/HDR conventions (:mod:`.conventions`), transfer functions (:mod:`.transfer`) and
gamut conversion (:mod:`.gamut`). colour-science is the reference; the torch versions here are the hot
path and are tested against it."""

from hdrconv.color._colour import colour  # noqa: F401  (import colour-science once, quietly)
