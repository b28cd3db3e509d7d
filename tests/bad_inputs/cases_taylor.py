import jax
import jax.numpy as jnp
from _case import BadInput

from jaxsci import taylor


def u(x):
    return jnp.sum(jnp.sin(x))


X3 = jnp.ones(3)
KEY = jax.random.key(0)

CASES = [
    BadInput(
        "taylor-dimension-mismatch",
        lambda: taylor.Exact()(taylor.laplacian(4), u, X3),
        ValueError,
        "must be one point of shape (4,)",
    ),
    BadInput(
        "taylor-batch-of-points",
        lambda: taylor.Exact()(taylor.laplacian(3), u, jnp.ones((5, 3))),
        ValueError,
        "jax.vmap",
    ),
    BadInput(
        "taylor-order-zero",
        lambda: taylor.partial(3, {0: 0}),
        ValueError,
        "order 0",
    ),
    BadInput(
        "taylor-order-zero-sequence",
        lambda: taylor.partial(2, (0, 0)),
        ValueError,
        "use u(x) directly",
    ),
    BadInput(
        "taylor-non-scalar-output",
        lambda: taylor.Exact()(taylor.laplacian(3), lambda x: jnp.sin(x), X3),
        ValueError,
        "must return a scalar",
    ),
    BadInput(
        "taylor-key-not-a-key",
        lambda: taylor.SparseSTDE(2)(taylor.laplacian(3), u, X3, key=42),
        TypeError,
        "jax.random.key",
    ),
    BadInput(
        "taylor-missing-key",
        lambda: taylor.DenseSTDE(2)(taylor.laplacian(3), u, X3),
        TypeError,
        "needs a PRNG `key`",
    ),
    BadInput(
        "taylor-integer-point",
        lambda: taylor.Exact()(taylor.laplacian(3), u, jnp.ones(3, dtype=jnp.int32)),
        TypeError,
        "floating-point",
    ),
    BadInput(
        "taylor-unknown-mode",
        lambda: taylor.Exact(mode="taylor"),
        ValueError,
        "must be one of",
    ),
    BadInput(
        "taylor-zero-samples",
        lambda: taylor.SparseSTDE(0),
        ValueError,
        "positive integer",
    ),
    BadInput(
        "taylor-dense-third-order",
        lambda: taylor.DenseSTDE(2)(taylor.partial(3, {0: 3}), u, X3, key=KEY),
        ValueError,
        "use SparseSTDE",
    ),
    BadInput(
        "taylor-dense-biharmonic-rademacher",
        lambda: taylor.DenseSTDE(2)(taylor.biharmonic(3), u, X3, key=KEY),
        ValueError,
        "distribution='gaussian'",
    ),
    BadInput(
        "taylor-hvp-fourth-order",
        lambda: taylor.Exact(mode="hvp")(taylor.biharmonic(3), u, X3),
        ValueError,
        "second-order operators only",
    ),
    BadInput(
        "taylor-folx-not-laplacian",
        lambda: taylor.ForwardLaplacian()(taylor.partial(3, {0: 1, 1: 1}), u, X3),
        ValueError,
        "only the full Laplacian",
    ),
    BadInput(
        "taylor-axis-out-of-range",
        lambda: taylor.partial(3, {5: 2}),
        ValueError,
        "out of range",
    ),
    BadInput(
        "taylor-multi-index-length",
        lambda: taylor.partial(3, (1, 1)),
        ValueError,
        "length dim=3",
    ),
    BadInput(
        "taylor-add-different-dims",
        lambda: taylor.laplacian(3) + taylor.laplacian(4),
        ValueError,
        "same `dim`",
    ),
    BadInput(
        "taylor-not-an-operator",
        lambda: taylor.Exact()("laplacian", u, X3),
        TypeError,
        "DifferentialOperator",
    ),
    BadInput(
        "taylor-time-index",
        lambda: taylor.time_derivative(3, time_index=3),
        ValueError,
        "out of range",
    ),
]
