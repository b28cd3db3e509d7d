import equinox as eqx
import jax
import jax.numpy as jnp
from _case import BadInput

from jaxsci import taylor


def u(x):
    return jnp.sum(jnp.sin(x))


X3 = jnp.ones(3)
KEY = jax.random.key(0)
NET4 = eqx.nn.MLP(4, "scalar", 4, 1, key=jax.random.key(1))  # expects points of R^4
DIRS3 = taylor.DenseDirections(jnp.eye(3), jnp.ones(3))

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
    # --- 0.2: keyword-only keys, classes, dimension agreement, traced arguments ---
    BadInput(
        "taylor-positional-key",
        lambda: taylor.SparseSTDE(2)(taylor.laplacian(3), u, X3, KEY),
        TypeError,
        "positional",
    ),
    BadInput(
        "taylor-network-input-size",
        lambda: taylor.Exact()(taylor.laplacian(3), NET4, X3),
        ValueError,
        "network's input size",
    ),
    BadInput(
        "taylor-network-input-size-traced",
        lambda: jax.jit(lambda x: taylor.SparseSTDE(2)(taylor.laplacian(3), NET4, x, key=KEY))(X3),
        ValueError,
        "points' last axis agree",
    ),
    BadInput(
        "taylor-dimension-mismatch-traced",
        lambda: jax.jit(lambda x: taylor.Exact()(taylor.laplacian(4), u, x))(X3),
        ValueError,
        "must be one point of shape (4,)",
    ),
    BadInput(
        "taylor-integer-point-traced",
        lambda: jax.jit(lambda x: taylor.Exact()(taylor.laplacian(3), u, x))(jnp.ones(3, jnp.int32)),
        TypeError,
        "floating-point",
    ),
    BadInput(
        "taylor-key-wrong-shape-traced",
        lambda: jax.jit(lambda k: taylor.DenseSTDE(2)(taylor.laplacian(3), u, X3, key=k))(
            jnp.zeros(3, jnp.uint32)
        ),
        TypeError,
        "single JAX PRNG key",
    ),
    BadInput(
        "taylor-batch-of-keys",
        lambda: taylor.SparseSTDE(2)(taylor.laplacian(3), u, X3, key=jax.random.split(KEY, 2)),
        TypeError,
        "single JAX PRNG key",
    ),
    BadInput(
        "taylor-missing-key-sparse",
        lambda: taylor.SparseSTDE(2)(taylor.laplacian(3), u, X3),
        TypeError,
        "key=jax.random.key(seed)",
    ),
    BadInput(
        "taylor-missing-key-hutchinson",
        lambda: taylor.Hutchinson(2)(taylor.laplacian(3), u, X3),
        TypeError,
        "Hutchinson is stochastic",
    ),
    BadInput("taylor-sdgd-zero-samples", lambda: taylor.SDGD(0), ValueError, "`num_samples`"),
    BadInput("taylor-sdgd-float-samples", lambda: taylor.SDGD(2.5), TypeError, "positive integer"),
    BadInput(
        "taylor-hutchinson-distribution",
        lambda: taylor.Hutchinson(2, "uniform"),
        ValueError,
        "`distribution` must be one of",
    ),
    BadInput(
        "taylor-sdgd-fourth-order",
        lambda: taylor.SDGD(2)(taylor.biharmonic(3), u, X3, key=KEY),
        ValueError,
        "second-order operators only",
    ),
    BadInput(
        "taylor-hessian-trace-fourth-order",
        lambda: taylor.HessianTrace()(taylor.biharmonic(3), u, X3),
        ValueError,
        "second-order operators only",
    ),
    BadInput("taylor-chunk-size-zero", lambda: taylor.Exact(chunk_size=0), ValueError, "`chunk_size`"),
    BadInput(
        "taylor-folx-threshold",
        lambda: taylor.ForwardLaplacian(-1),
        ValueError,
        "`sparsity_threshold`",
    ),
    BadInput(
        "taylor-apply-backend-string",
        lambda: taylor.apply(taylor.laplacian(3), u, X3, backend="exact"),
        TypeError,
        "must be a jaxsci.taylor backend",
    ),
    BadInput(
        "taylor-u-not-callable",
        lambda: taylor.Exact()(taylor.laplacian(3), 3.0, X3),
        TypeError,
        "`u` must be a callable",
    ),
    BadInput(
        "taylor-two-draw-positional-key",
        lambda: taylor.two_draw_product(lambda k: jax.random.normal(k), KEY),
        TypeError,
        "positional",
    ),
    BadInput(
        "taylor-two-draw-not-callable",
        lambda: taylor.two_draw_product(3.0, key=KEY),
        TypeError,
        "`residual` must be a callable",
    ),
    BadInput(
        "taylor-two-draw-int-key",
        lambda: taylor.two_draw_product(lambda k: jax.random.normal(k), key=0),
        TypeError,
        "jax.random.key",
    ),
    BadInput(
        "taylor-no-taylor-rule",
        lambda: taylor.Exact()(taylor.laplacian(3), lambda x: jnp.sum(jnp.cbrt(x)), X3),
        TypeError,
        "no Taylor rule for the primitive `cbrt`",
    ),
    BadInput(
        "taylor-scale-by-vector",
        lambda: taylor.laplacian(3) * jnp.ones(3),
        TypeError,
        "real scalar",
    ),
    BadInput(
        "taylor-nan-scale",
        lambda: float("nan") * taylor.laplacian(3),
        ValueError,
        "`scale` must be finite",
    ),
    BadInput(
        "taylor-complex-coefficients",
        lambda: taylor.directional(jnp.eye(2), 2, jnp.array([1j, 1.0])),
        TypeError,
        "real numbers",
    ),
    BadInput(
        "taylor-infinite-coefficients",
        lambda: taylor.directional(jnp.eye(2), 2, [1.0, jnp.inf]),
        ValueError,
        "`coeffs` must be finite",
    ),
    BadInput(
        "taylor-term-not-a-pair",
        lambda: taylor.from_terms(2, [(1.0,)]),
        TypeError,
        "pair (coefficient, multi-index)",
    ),
    BadInput(
        "taylor-directional-vectors-rank",
        lambda: taylor.directional(jnp.ones((2, 2, 2)), 2),
        ValueError,
        "shape (r, dim)",
    ),
    BadInput(
        "taylor-directional-order-zero",
        lambda: taylor.directional(jnp.eye(2), 0),
        ValueError,
        "`order` must be a positive integer",
    ),
    BadInput(
        "taylor-diffusion-sigma-vector",
        lambda: taylor.diffusion_trace(jnp.ones(3)),
        ValueError,
        "matrix of shape (dim, k)",
    ),
    BadInput(
        "taylor-gradient-dot-matrix",
        lambda: taylor.gradient_dot(jnp.ones((2, 2))),
        ValueError,
        "vector of shape (dim,)",
    ),
    BadInput(
        "taylor-directional-derivatives-shape",
        lambda: taylor.directional_derivatives(u, X3, jnp.ones(2), 2),
        ValueError,
        "point's shape",
    ),
    BadInput(
        "taylor-directional-sum-mode",
        lambda: taylor.directional_sum(u, X3, 2, DIRS3, "fast"),
        ValueError,
        "`mode` must be one of",
    ),
    BadInput(
        "taylor-directional-sum-dimension",
        lambda: taylor.directional_sum(u, jnp.ones(2), 2, DIRS3, "jet"),
        ValueError,
        "one point of shape (3,)",
    ),
    BadInput(
        "taylor-collapsed-order-one",
        lambda: taylor.collapsed_sum(u, X3, 1, DIRS3),
        ValueError,
        "integer `order` >= 2",
    ),
    BadInput(
        "taylor-collapsed-not-directions",
        lambda: taylor.collapsed_sum(u, X3, 2, jnp.eye(3)),
        TypeError,
        "SparseDirections or DenseDirections",
    ),
    BadInput(
        "taylor-sparse-directions-shapes",
        lambda: taylor.SparseDirections(3, jnp.zeros((2, 1), jnp.int32), jnp.ones((2, 2)), jnp.ones(2)),
        ValueError,
        "equal shape (r, m)",
    ),
    BadInput(
        "taylor-dense-directions-weight",
        lambda: taylor.DenseDirections(jnp.eye(3), jnp.ones(2)),
        ValueError,
        "`weight` of shape (r,)",
    ),
    BadInput(
        "taylor-polarization-zero-power",
        lambda: taylor.polarization_lattice((2, 0)),
        ValueError,
        "positive integers",
    ),
    BadInput(
        "taylor-operator-directions-int-dtype",
        lambda: taylor.operator_directions(taylor.laplacian(3), jnp.int32),
        TypeError,
        "floating-point dtype",
    ),
    BadInput(
        "taylor-abstract-backend",
        lambda: taylor.AbstractBackend(),
        TypeError,
        "abstract",
    ),
]
