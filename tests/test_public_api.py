"""The public surface of every subpackage follows one set of conventions (docs/conventions.md)."""

import importlib
import inspect
import pathlib
import re
import types

import equinox as eqx
import pytest

import jaxsci

PACKAGE = pathlib.Path(jaxsci.__file__).parent
SUBPACKAGES = list(jaxsci.__all__)


def _public(module):
    return {name: getattr(module, name) for name in module.__all__}


@pytest.mark.parametrize("name", SUBPACKAGES)
def test_every_public_name_is_listed_and_documented(name):
    module = importlib.import_module(f"jaxsci.{name}")
    assert hasattr(module, "__all__"), f"jaxsci.{name} has no __all__"
    listed = set(module.__all__)
    missing = [n for n in listed if not hasattr(module, n)]
    assert not missing, f"jaxsci.{name}.__all__ names missing objects: {missing}"
    unlisted = [
        n for n, obj in vars(module).items()
        if not n.startswith("_") and n not in listed and not isinstance(obj, types.ModuleType)
    ]
    assert not unlisted, f"jaxsci.{name} exposes names not in __all__: {unlisted}"
    undocumented = [
        n for n, obj in _public(module).items()
        if (inspect.isclass(obj) or inspect.isfunction(obj)) and not (obj.__doc__ or "").strip()
    ]
    assert not undocumented, f"jaxsci.{name}: no docstring: {undocumented}"


def _signatures(obj):
    if inspect.isfunction(obj):
        yield obj.__qualname__, inspect.signature(obj)
    elif inspect.isclass(obj):
        for attr in ("__init__", "__call__"):
            fn = obj.__dict__.get(attr)
            if inspect.isfunction(fn):
                yield f"{obj.__qualname__}.{attr}", inspect.signature(fn)


@pytest.mark.parametrize("name", SUBPACKAGES)
def test_keys_are_keyword_only(name):
    module = importlib.import_module(f"jaxsci.{name}")
    wrong = []
    for obj in _public(module).values():
        for where, sig in _signatures(obj):
            param = sig.parameters.get("key")
            if param is not None and param.kind is not inspect.Parameter.KEYWORD_ONLY:
                wrong.append(where)
    assert not wrong, f"jaxsci.{name}: `key` must be keyword-only in {wrong}"


@pytest.mark.parametrize("name", SUBPACKAGES)
def test_abstract_bases_cannot_be_instantiated(name):
    module = importlib.import_module(f"jaxsci.{name}")
    for obj_name, obj in _public(module).items():
        if inspect.isclass(obj) and obj_name.startswith("Abstract"):
            assert issubclass(obj, eqx.Module), f"{obj_name} is not an eqx.Module"
            abstract = inspect.isabstract(obj) or bool(getattr(obj, "__abstractvars__", ()))
            assert abstract, f"{obj_name} is named Abstract* but has no abstract members"
            with pytest.raises(TypeError):
                obj()


def _sources():
    return [p for p in PACKAGE.rglob("*.py")]


def test_no_notimplemented_abstract_methods():
    offenders = [str(p.relative_to(PACKAGE)) for p in _sources()
                 if "raise NotImplementedError" in p.read_text()]
    assert not offenders, f"use abc.abstractmethod / eqx.AbstractVar instead: {offenders}"


def test_one_training_loop_and_one_relative_l2():
    updates = [str(p.relative_to(PACKAGE)) for p in _sources()
               if re.search(r"optax\.apply_updates|\.update\(\s*grads", p.read_text())]
    assert updates == ["core/_fit.py"], updates
    metrics = [str(p.relative_to(PACKAGE)) for p in _sources()
               if re.search(r"def (relative_l2|rel_l2)\b", p.read_text())]
    assert metrics == ["core/_metrics.py"], metrics


def test_every_subpackage_is_reachable_from_import_jaxsci():
    for name in SUBPACKAGES:
        assert isinstance(getattr(jaxsci, name), types.ModuleType)
    with pytest.raises(AttributeError):
        jaxsci.not_a_subpackage  # noqa: B018
