"""Colour: the SDR/HDR conventions (:mod:`.conventions`), transfer functions (:mod:`.transfer`) and
gamut conversion (:mod:`.gamut`). colour-science is the reference; the torch versions here are the hot
path and are tested against it. colour-science is imported, quietly, by the modules that use it
(through :mod:`._colour`), not here: :mod:`.conventions` stays light for the command line's checks."""
