"""The exact backends against nested jax.jacfwd, for every partial up to order 4."""

import itertools
import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxsci import taylor
from jaxsci.taylor import DifferentialOperator, PartialTerms


def derivative_tensors(u, x, max_order=4):
    """[grad, Hessian, 3rd, 4th derivative tensors] by nested forward/reverse AD."""

    def all_tensors(x):
        tensors, f = [], jax.grad(u)
        tensors.append(f(x))
        for _ in range(max_order - 1):
            f = jax.jacfwd(f)
            tensors.append(f(x))
        return tensors

    return jax.jit(all_tensors)(x)


def all_groups(dim, max_order=4):
    """Every multi-index of order 1..max_order as pattern groups (via from_terms)."""
    terms = []
    for k in range(1, max_order + 1):
        for combo in itertools.combinations_with_replacement(range(dim), k):
            alpha = {}
            for i in combo:
                alpha[i] = alpha.get(i, 0) + 1
            terms.append((1.0, alpha))
    return taylor.from_terms(dim, terms).partial_groups


def per_term_values(backend, group, u, x):
    """Evaluate each term of a group separately (vmap over one-hot coefficients)."""
    n = group.dims.shape[0]

    def one(coeffs):
        op = DifferentialOperator(x.shape[0], (PartialTerms(group.powers, group.dims, coeffs),), ())
        return backend(op, u, x)[1]

    return jax.jit(jax.vmap(one))(jnp.eye(n, dtype=x.dtype))


def reference_values(group, tensors):
    out = []
    for row in np.asarray(group.dims):
        index = []
        for axis, power in zip(row, group.powers):
            index += [axis] * power
        out.append(tensors[len(index) - 1][tuple(index)])
    return np.asarray(out)


@pytest.mark.heavy
@pytest.mark.parametrize(
    "dim, mode", [(2, "collapsed"), (3, "collapsed"), (5, "collapsed"), (8, "collapsed"), (3, "jet")]
)
def test_every_partial_up_to_order_4_matches_nested_jacfwd(x64, point, sample_function, dim, mode):
    u = sample_function(dim)
    x = point(dim)
    tensors = derivative_tensors(u, x)
    backend = taylor.Exact(mode=mode)
    groups = all_groups(dim)
    assert sum(g.num_terms for g in groups) == math.comb(dim + 4, 4) - 1
    for group in groups:
        got = per_term_values(backend, group, u, x)
        want = reference_values(group, tensors)
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10, err_msg=str(group.powers))


@pytest.mark.parametrize("mode", ["collapsed", "jet", "hvp", "hessian"])
def test_laplacian_every_mode(x64, point, sample_function, mode):
    u = sample_function(6)
    x = point(6)
    expected = jnp.trace(jax.hessian(u)(x))
    u_x, lap = eqx.filter_jit(taylor.Exact(mode=mode))(taylor.laplacian(6), u, x)
    np.testing.assert_allclose(u_x, u(x), rtol=1e-12)
    np.testing.assert_allclose(lap, expected, rtol=1e-10)


def test_chunked_directions_give_the_same_value(x64, point, sample_function):
    u, x = sample_function(7), point(7)
    op = taylor.laplacian(7) + taylor.partial(7, {0: 2, 3: 1})
    full = eqx.filter_jit(taylor.Exact())(op, u, x)[1]
    for mode in ("collapsed", "jet"):
        np.testing.assert_allclose(eqx.filter_jit(taylor.Exact(mode, chunk_size=3))(op, u, x)[1], full, rtol=1e-10)


def test_biharmonic_and_high_order_mixed(x64, point, sample_function):
    u, x = sample_function(4), point(4)
    t = derivative_tensors(u, x)
    np.testing.assert_allclose(
        eqx.filter_jit(taylor.Exact())(taylor.biharmonic(4), u, x)[1], jnp.einsum("iijj", t[3]), rtol=1e-10
    )
    # u_xxxy, as in the STDE paper's KdV-type operators
    np.testing.assert_allclose(
        eqx.filter_jit(taylor.Exact())(taylor.partial(4, (3, 1, 0, 0)), u, x)[1], t[3][0, 0, 0, 1], rtol=1e-10
    )


def test_operator_algebra(x64, point, sample_function):
    u, x = sample_function(3), point(3)
    t = derivative_tensors(u, x)
    op = 2.0 * taylor.laplacian(3) - taylor.partial(3, {1: 1}) + 0.5 * taylor.partial(3, {0: 2, 2: 1})
    expected = 2 * jnp.trace(t[1]) - t[0][1] + 0.5 * t[2][0, 0, 2]
    assert op.orders == (1, 2, 3)
    np.testing.assert_allclose(eqx.filter_jit(taylor.apply)(op, u, x), expected, rtol=1e-10)


def test_time_coordinate_and_first_order_terms(x64, point, sample_function):
    u, x = sample_function(4), point(4)
    t = derivative_tensors(u, x)
    heat = taylor.time_derivative(4, time_index=3) - 0.1 * taylor.laplacian(4, time_index=3)
    expected = t[0][3] - 0.1 * jnp.trace(t[1][:3, :3])
    np.testing.assert_allclose(eqx.filter_jit(taylor.apply)(heat, u, x), expected, rtol=1e-10)
    b = jnp.array([0.3, -1.0, 2.0, 0.5])
    np.testing.assert_allclose(taylor.apply(taylor.gradient_dot(b), u, x), t[0] @ b, rtol=1e-10)


def test_diffusion_trace(x64, point, sample_function):
    u, x = sample_function(5), point(5)
    sigma = jax.random.normal(jax.random.key(3), (5, 3))
    expected = jnp.trace(sigma @ sigma.T @ jax.hessian(u)(x))
    for backend in (taylor.Exact(), taylor.Exact("jet"), taylor.HessianTrace()):
        np.testing.assert_allclose(eqx.filter_jit(backend)(taylor.diffusion_trace(sigma), u, x)[1], expected, rtol=1e-10)


def test_directional_derivatives_match_nested_jvp(x64, point, sample_function):
    u, x = sample_function(3), point(3)
    v = jnp.array([0.2, -0.7, 1.1])

    def d(f):
        return lambda y: jax.jvp(f, (y,), (v,))[1]

    f1 = d(u)
    f2 = d(f1)
    f3 = d(f2)
    _, derivs = taylor.directional_derivatives(u, x, v, 3)
    np.testing.assert_allclose(derivs, [f1(x), f2(x), f3(x)], rtol=1e-10)


def test_polarization_weights_recover_monomials():
    # For p(s) = prod s_j^{a_j} of degree K the lattice sum is K!/... : check on the form
    # D^K u[v] = (sum_j v_j)^K restricted to the pattern: exact integer identities.
    for powers in [(1, 1), (2, 1), (3, 1), (2, 2), (2, 1, 1), (1, 1, 1, 1)]:
        points, weights = taylor.polarization_lattice(powers)
        order = sum(powers)
        # with u = prod_j y_j^{a_j} (a monomial in the pattern's coordinates), the mixed
        # partial is prod a_j! and D^K u[s] = K! prod s_j^{a_j} / prod a_j! * prod a_j!
        value = sum(
            w * math.factorial(order) * np.prod([s**a for s, a in zip(p, powers)])
            for p, w in zip(points, weights)
        )
        assert np.isclose(value, np.prod([math.factorial(a) for a in powers]))
