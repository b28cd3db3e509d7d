import jax
import pytest

from jaxsci.core import enable_x64

# Tests compare numerics at float32 tolerances; on GPUs the default float32 matmul may use
# TF32 (10-bit mantissa), so run the suite at full float32 precision everywhere.
jax.config.update("jax_default_matmul_precision", "highest")
# As diffrax's test suite: no implicit dtype promotion and no implicit rank broadcasting, so
# a silent float64 -> float32 mix or a (n,) + (n, 1) broadcast fails the test that hits it.
jax.config.update("jax_numpy_dtype_promotion", "strict")
jax.config.update("jax_numpy_rank_promotion", "raise")


@pytest.fixture
def x64():
    """Run the test with 64-bit floats (restores the previous setting afterwards)."""
    with enable_x64(True):
        yield


@pytest.fixture
def key():
    return jax.random.key(0)
