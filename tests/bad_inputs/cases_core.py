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

# the training loop, result-returning solves and metrics
import jax  # noqa: E402
import lineax as lx  # noqa: E402
import optax  # noqa: E402


def _quad(model, batch, key):
    return jnp.sum((model - 1.0) ** 2)


def _fit(**kw):
    args = dict(steps=5, key=jax.random.key(0), progress=False) | kw
    return core.fit(_quad, jnp.zeros(2), optax.sgd(0.1), **args)


CASES += [
    BadInput("key-none", lambda: internal.check_key(None), TypeError, "is required"),
    BadInput("key-batch", lambda: internal.check_key(jax.random.split(jax.random.key(0), 3)), TypeError, "single JAX PRNG key"),
    BadInput("key-float-pair", lambda: internal.check_key(jnp.zeros(2, jnp.float32)), TypeError, "PRNG key"),
    BadInput("fit-steps-zero", lambda: _fit(steps=0), ValueError, "`steps` must be a positive integer"),
    BadInput("fit-steps-negative", lambda: _fit(steps=-5), ValueError, "`steps` must be a positive integer"),
    BadInput("fit-steps-float", lambda: _fit(steps=5.0), TypeError, "`steps` must be a positive integer"),
    BadInput("fit-chunk-zero", lambda: _fit(chunk=0), ValueError, "`chunk` must be a positive integer"),
    BadInput("fit-start-past-end", lambda: _fit(start_step=9), ValueError, "past `steps`"),
    BadInput("fit-start-negative", lambda: _fit(start_step=-1), ValueError, "`start_step` must be an integer >= 0"),
    BadInput("fit-seconds-negative", lambda: _fit(seconds=-1.0), ValueError, "`seconds` must be a positive number"),
    BadInput("fit-seconds-nan", lambda: _fit(seconds=float("nan")), ValueError, "`seconds` must be a positive number"),
    BadInput("fit-no-key", lambda: core.fit(_quad, jnp.zeros(2), optax.sgd(0.1), steps=5, key=None), TypeError, "`key` is required"),
    BadInput("fit-optimizer-string", lambda: core.fit(_quad, jnp.zeros(2), "adam", steps=5, key=jax.random.key(0)), TypeError, "optax GradientTransformation"),
    BadInput("fit-loss-not-callable", lambda: core.fit(3.0, jnp.zeros(2), optax.sgd(0.1), steps=5, key=jax.random.key(0)), TypeError, "`loss_fn` must be a callable"),
    BadInput("fit-sample-and-data", lambda: _fit(sample=lambda k: 1.0, data=1.0), ValueError, "not both"),
    BadInput("fit-sample-not-callable", lambda: _fit(sample=3), TypeError, "`sample` must be a callable"),
    BadInput("fit-evaluate-not-callable", lambda: _fit(evaluate="l2"), TypeError, "`evaluate` must be a callable"),
    BadInput("fit-keep-best-no-evaluate", lambda: _fit(keep_best=True), ValueError, "pass `evaluate="),
    BadInput("fit-patience-no-evaluate", lambda: _fit(patience=3), ValueError, "judge the model by `evaluate`"),
    BadInput("fit-patience-zero", lambda: _fit(patience=0, evaluate=lambda m: m[0]), ValueError, "`patience` must be a positive integer"),
    BadInput("fit-keep-best-string", lambda: _fit(keep_best="yes", evaluate=lambda m: m[0]), TypeError, "`keep_best` must be True or False"),
    BadInput("fit-min-delta-one", lambda: _fit(patience=2, min_delta=1.0, evaluate=lambda m: m[0]), ValueError, "`min_delta` must be a number in [0, 1)"),
    BadInput("fit-no-parameters", lambda: core.fit(_quad, jnp.zeros(2, jnp.int32), optax.sgd(0.1), steps=5, key=jax.random.key(0)), ValueError, "no floating-point arrays"),
    BadInput("fit-nan-gradient", lambda: core.fit(lambda m, b, key: jnp.sum(jnp.sqrt(jnp.abs(m))), jnp.zeros(2), optax.sgd(0.1), steps=5, key=jax.random.key(0), progress=False), FloatingPointError, "NaN/inf"),
    BadInput("fit-nan-loss", lambda: core.fit(lambda m, b, key: jnp.sum(m) * jnp.nan, jnp.zeros(2), optax.sgd(0.1), steps=5, key=jax.random.key(0), progress=False), FloatingPointError, "NaN/inf"),
    BadInput("lstsq-solver-class-not-instance", lambda: core.least_squares(jnp.ones((3, 2)), jnp.ones(3), solver=lx.SVD), TypeError, "lineax.AbstractLinearSolver"),
    BadInput("lstsq-damping-nan", lambda: core.least_squares(jnp.ones((3, 2)), jnp.ones(3), damping=float("nan")), ValueError, "damping"),
    BadInput("lstsq-qr-wide", lambda: core.least_squares(jnp.ones((2, 3)), jnp.ones(2), solver=lx.QR()), ValueError, "at least as many rows"),
    BadInput("lstsq-qr-rank-deficient", lambda: core.least_squares(jnp.ones((5, 3)), jnp.arange(5.0), solver=lx.QR()), Exception, "rank deficient"),
    BadInput("lstsq-qr-rank-deficient-jit", lambda: jax.jit(lambda a, b: core.least_squares(a, b, solver=lx.QR()).value)(jnp.ones((5, 3)), jnp.arange(5.0)), Exception, "rank deficient"),
    BadInput("lstsq-nan-matrix", lambda: core.least_squares(jnp.ones((3, 2)).at[0, 0].set(jnp.nan), jnp.ones(3)), Exception, "NaN or infinity"),
    BadInput("lstsq-vector-matrix", lambda: core.least_squares(jnp.ones(3), jnp.ones(3)), ValueError, "A of shape (m, n)"),
    BadInput("relative-l2-shapes", lambda: core.relative_l2(jnp.ones(3), jnp.ones((3, 1))), ValueError, "same shape"),
    BadInput("tangents-num-zero", lambda: core.random_tangents(0, 3, key=jax.random.key(0)), ValueError, "`num` must be a positive integer"),
    BadInput("tangents-no-key", lambda: core.random_tangents(4, 3, key=None), TypeError, "`key` is required"),
    BadInput("without-replacement-population-float", lambda: core.sample_without_replacement(3.5, 2, key=jax.random.key(0)), TypeError, "`population` must be a positive integer"),
    BadInput("split-like-int-key", lambda: core.split_like({"a": 1}, key=0), TypeError, "PRNG key"),
    BadInput("chunked-vmap-in-axes", lambda: core.chunked_vmap(lambda x: x, in_axes=1, chunk_size=2)(jnp.ones((4, 3))), ValueError, "in_axes of 0 or None"),
    BadInput("progress-total-zero", lambda: core.ProgressBar(0), ValueError, "`total` must be >= 1"),
]
