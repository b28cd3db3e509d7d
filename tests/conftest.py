import jax
import pytest

from jaxsci.core import enable_x64


@pytest.fixture
def x64():
    """Run the test with 64-bit floats (restores the previous setting afterwards)."""
    with enable_x64(True):
        yield


@pytest.fixture
def key():
    return jax.random.key(0)
