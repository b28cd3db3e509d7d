import os

import jax
import pytest

from jaxsci.core import enable_x64

# The suite runs at JAX's default matmul precision, the one users get: on GPUs and TPUs a
# float32 matmul may then run in TF32 or bfloat16 passes. A test whose float32 tolerance
# needs full float32 products is marked `full_precision` and runs at "highest" (the fixture
# below). JAXSCI_TEST_EMULATE_TF32=1 rounds the operands of every float32 matmul to TF32's
# 10-bit mantissa on any backend, so the tests that need the mark show up without a GPU.
EMULATE_TF32 = os.environ.get("JAXSCI_TEST_EMULATE_TF32") == "1"
# As diffrax's test suite: no implicit dtype promotion and no implicit rank broadcasting, so
# a silent float64 -> float32 mix or a (n,) + (n, 1) broadcast fails the test that hits it.
jax.config.update("jax_numpy_dtype_promotion", "strict")
jax.config.update("jax_numpy_rank_promotion", "raise")


@pytest.fixture(autouse=True)
def _matmul_precision(request):
    """Full float32 matmuls for tests marked ``full_precision``; the default for the others."""
    if request.node.get_closest_marker("full_precision") is None:
        yield
    else:
        with jax.default_matmul_precision("highest"):
            yield


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "full_precision: float32 tolerances that need full-precision matmuls "
        "(not TF32/bfloat16): the test runs at jax_default_matmul_precision='highest'")
    if EMULATE_TF32:
        _emulate_tf32()


def _emulate_tf32():
    """Round float32 matmul operands to TF32 (1 sign, 8 exponent, 10 mantissa bits).

    Patches ``lax.dot_general``, through which ``jnp.matmul``, ``jnp.dot``, ``jnp.einsum`` and
    ``@`` go, unless the precision asked for (argument or ``jax_default_matmul_precision``)
    is "highest". The rounding (Veltkamp's splitting) passes tangents and Taylor series
    through unchanged; derivative matmuls (JVP/transpose rules) stay at full precision, so
    this finds most, not all, of the tests a GPU's TF32 would fail.
    """
    import jax.numpy as jnp
    from jax import lax
    from jax._src import config as jax_config
    from jax._src.lax import lax as lax_internal

    full_dot_general = lax_internal.dot_general

    def to_tf32(x):
        # Veltkamp's splitting (c = (2^13 + 1) x, hi = c - (c - x)) keeps the leading 11
        # significant bits of a float32, rounded to nearest. It is made of multiplications
        # and subtractions only, so grad, jvp and jet pass through it (its derivative is 1).
        c = x * jnp.float32(2.0**13 + 1.0)
        return c - (c - x)

    def full(precision):
        asked = precision if precision is not None else jax_config.default_matmul_precision.value
        return str(asked).lower() in ("highest", "float32", "precision.highest", "tensorfloat32_off") or (
            isinstance(asked, tuple) and all(str(p).lower().endswith("highest") for p in asked))

    def dot_general(lhs, rhs, *args, precision=None, **kwargs):
        if not full(precision):
            lhs, rhs = (to_tf32(a) if getattr(a, "dtype", None) == jnp.float32 else a
                        for a in (lhs, rhs))
        return full_dot_general(lhs, rhs, *args, precision=precision, **kwargs)

    lax_internal.dot_general = dot_general
    lax.dot_general = dot_general


@pytest.fixture
def x64():
    """Run the test with 64-bit floats (restores the previous setting afterwards)."""
    with enable_x64(True):
        yield


@pytest.fixture
def key():
    return jax.random.key(0)
