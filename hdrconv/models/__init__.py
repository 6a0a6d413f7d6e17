"""Models: the interface (:mod:`.base`), the registry (:mod:`.registry`) and the models themselves."""

from hdrconv.models.base import Model
from hdrconv.models.registry import create, get, names, register

__all__ = ["Model", "create", "get", "names", "register"]
