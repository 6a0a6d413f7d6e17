import importlib

import pytest

from hdrconv.errors import UsageError
from hdrconv.models import registry


def test_the_table_of_names_is_what_the_modules_register():
    for module in {m for _, m in registry.MODULES.values()}:
        importlib.import_module(module)
    assert set(registry._MODELS) == set(registry.MODULES)
    for name, cls in registry._MODELS.items():
        assert (cls.task, cls.__module__) == registry.MODULES[name]
        assert cls.name == name


def test_check_names_the_models_of_the_task():
    registry.check("bt2408", "itm")
    with pytest.raises(UsageError, match=r"unknown model 'nope' \(available: c2f-2exp, c2f-3exp, merge\)"):
        registry.check("nope", "alt-exp")
    with pytest.raises(UsageError, match="model 'merge' is an alt-exp model, not for `hdrconv itm`"):
        registry.check("merge", "itm")
