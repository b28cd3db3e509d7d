import jax.numpy as jnp
from _case import BadInput

from jaxsci import core, internal

CASES = [
    BadInput("key-int", lambda: internal.check_key(0), TypeError, "jax.random.key(seed)"),
    BadInput("key-float-array", lambda: internal.check_key(jnp.zeros(2)), TypeError, "PRNG key"),
    BadInput(
        "chunk-size-zero",
        lambda: core.chunked_vmap(lambda x: x, chunk_size=0),
        ValueError,
        "positive integer",
    ),
    BadInput(
        "lstsq-shapes",
        lambda: core.least_squares(jnp.ones((3, 2)), jnp.ones(4)),
        ValueError,
        "A of shape (m, n) and b of shape (m,)",
    ),
    BadInput(
        "lstsq-method",
        lambda: core.least_squares(jnp.ones((3, 2)), jnp.ones(3), solver="lu"),
        TypeError,
        "lineax solver object",
    ),
    BadInput(
        "lstsq-negative-damping",
        lambda: core.least_squares(jnp.ones((3, 2)), jnp.ones(3), damping=-1.0),
        ValueError,
        "damping",
    ),
    BadInput(
        "tangents-distribution",
        lambda: core.random_tangents(4, 3, distribution="uniform", key=internal.as_key(0)),
        ValueError,
        "rademacher",
    ),
    BadInput(
        "without-replacement-too-many",
        lambda: core.sample_without_replacement(3, 5, key=internal.as_key(0)),
        ValueError,
        "distinct",
    ),
    BadInput(
        "scalar-function-vector-output",
        lambda: internal.check_scalar_function(lambda x: x, jnp.ones(3)),
        ValueError,
        "must return a scalar",
    ),
]

CASES += [
    BadInput("enable-x64-flag", lambda: core.enable_x64("yes"), TypeError, "takes a bool"),
]
