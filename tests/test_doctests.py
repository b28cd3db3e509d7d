"""Every ``>>>`` example in the package's docstrings runs (doctest), with the usual imports."""

import doctest
import importlib
import pathlib

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import jaxsci

PACKAGE = pathlib.Path(jaxsci.__file__).parent
MODULES = sorted(
    ".".join(("jaxsci",) + p.relative_to(PACKAGE).with_suffix("").parts).removesuffix(".__init__")
    for p in PACKAGE.rglob("*.py")
    if p.name != "__main__.py" and "_demo" not in p.parts
)
GLOBS = {"jax": jax, "jnp": jnp, "np": np, "eqx": eqx, "optax": optax, "jaxsci": jaxsci}


# modules whose examples train a model: run in CI's heavy step, not in the default suite
HEAVY = {"jaxsci.spectral._tasks", "jaxsci.spectral._models", "jaxsci.pinn._optimizers", "jaxsci.pinn._losses"}


@pytest.mark.parametrize(
    "name", [pytest.param(m, marks=pytest.mark.heavy) if m in HEAVY else m for m in MODULES]
)
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    globs = dict(GLOBS) | {k: v for k, v in vars(module).items() if not k.startswith("__")}
    tests = [t for t in finder.find(module, name, globs=globs) if t.examples]
    # only the examples written in this module (not re-exports)
    tests = [t for t in tests if t.filename and pathlib.Path(t.filename).resolve() == pathlib.Path(module.__file__).resolve()]
    for test in tests:
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"
