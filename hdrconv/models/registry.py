"""Registry from ``--model`` names to model classes.

A model module registers its class with :func:`register`; :func:`create` builds one by name.
"""

from __future__ import annotations

import importlib

from hdrconv.errors import UsageError
from hdrconv.models.base import Model

_MODELS: dict[str, type[Model]] = {}

# Modules that define models; imported lazily so that start-up stays fast.
_MODULES = ("hdrconv.models.analytic", "hdrconv.models.learned", "hdrconv.models.merge")


def register(cls: type[Model]) -> type[Model]:
    """Class decorator: make ``cls`` available as ``--model cls.name``."""
    if cls.name in _MODELS and _MODELS[cls.name] is not cls:
        raise ValueError(f"model name {cls.name!r} registered twice")
    _MODELS[cls.name] = cls
    return cls


def _load() -> None:
    for m in _MODULES:
        importlib.import_module(m)


def names(task: str | None = None) -> list[str]:
    _load()
    return sorted(n for n, c in _MODELS.items() if task is None or c.task == task)


def get(name: str) -> type[Model]:
    _load()
    try:
        return _MODELS[name]
    except KeyError:
        raise UsageError(f"unknown model {name!r} (available: {', '.join(names())})") from None


def create(name: str, **kwargs) -> Model:
    return get(name)(**kwargs)


def describe(task: str | None = None) -> list[dict]:
    """``info()`` of every registered model, for ``hdrconv models``."""
    return [create(n).info() for n in names(task)]
