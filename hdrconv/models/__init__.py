"""Models: the interface (:mod:`.base`), the registry (:mod:`.registry`) and the models themselves.

The names below are imported on first use: :mod:`.registry` must load without torch (see there).
"""

import importlib

__all__ = ["Model", "create", "get", "names", "register"]


def __getattr__(name: str):
    if name == "Model":
        return importlib.import_module("hdrconv.models.base").Model
    if name in ("create", "get", "names", "register"):
        return getattr(importlib.import_module("hdrconv.models.registry"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
