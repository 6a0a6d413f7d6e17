"""Registry from ``--model`` names to model classes.

A model module registers its class with :func:`register`; :func:`create` builds one by name.

:data:`MODULES` names each model's task and module before any of them is imported: the model modules
import torch (1.5 s of the 2 s a conversion took to start), and a mistyped ``--model`` is a usage
error that must come back at once (issue 15: in < 0.5 s). ``tests/models/test_registry.py`` checks
the table against the classes the modules register.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from hdrconv.errors import UsageError

if TYPE_CHECKING:
    from hdrconv.models.base import Model

MODULES: dict[str, tuple[str, str]] = {
    "bt2408": ("itm", "hdrconv.models.analytic"),
    "bt2446a": ("itm", "hdrconv.models.analytic"),
    "bt2446c": ("itm", "hdrconv.models.analytic"),
    "irnet": ("itm", "hdrconv.models.learned"),
    "fastitm": ("itm", "hdrconv.models.learned"),
    "anchored": ("itm", "hdrconv.models.learned"),
    "temporal": ("itm", "hdrconv.models.learned"),
    "merge": ("alt-exp", "hdrconv.models.merge"),
    "c2f-2exp": ("alt-exp", "hdrconv.models.learned"),
    "c2f-3exp": ("alt-exp", "hdrconv.models.learned"),
}
"""``--model`` name -> (task, module that registers it)."""

_MODELS: dict[str, type[Model]] = {}


def register(cls: type[Model]) -> type[Model]:
    """Class decorator: make ``cls`` available as ``--model cls.name``."""
    if cls.name in _MODELS and _MODELS[cls.name] is not cls:
        raise ValueError(f"model name {cls.name!r} registered twice")
    _MODELS[cls.name] = cls
    return cls


def names(task: str | None = None) -> list[str]:
    return sorted(n for n, (t, _) in MODULES.items() if task is None or t == task)


def check(name: str, task: str | None = None) -> None:
    """Raise :class:`UsageError` unless ``name`` is a model (of ``task``, if given); imports nothing."""
    if name not in MODULES:
        raise UsageError(f"unknown model {name!r} (available: {', '.join(names(task))})")
    if task is not None and MODULES[name][0] != task:
        raise UsageError(f"model {name!r} is an {MODULES[name][0]} model, not for `hdrconv {task}`")


def get(name: str) -> type[Model]:
    check(name)
    importlib.import_module(MODULES[name][1])
    return _MODELS[name]


def create(name: str, **kwargs) -> Model:
    return get(name)(**kwargs)


def describe(task: str | None = None) -> list[dict]:
    """``info()`` of every registered model, for ``hdrconv models``."""
    return [create(n).info() for n in names(task)]
