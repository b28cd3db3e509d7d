"""Every backend under jit, vmap over points, and grad with respect to parameters."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxsci import taylor

BACKENDS = {
    "exact-collapsed": taylor.Exact(),
    "exact-jet": taylor.Exact("jet"),
    "hessian": taylor.HessianTrace(),
    "exact-hvp": taylor.Exact("hvp"),
    "folx": taylor.ForwardLaplacian(),
}


@pytest.mark.parametrize("name", list(BACKENDS))
def test_exact_backends_jit_vmap_grad_agree(x64, mlp, name):
    pytest.importorskip("folx") if name == "folx" else None
    dim = 4
    net = mlp(dim, width=8)
    points = 0.3 * jax.random.normal(jax.random.key(1), (3, dim))
    op = taylor.laplacian(dim)

    def lap(model, backend):
        return jax.vmap(lambda p: backend(op, model, p)[1])(points)

    def hessian_trace(model):
        return jax.vmap(lambda p: jnp.trace(jax.hessian(model)(p)))(points)

    backend = BACKENDS[name]
    np.testing.assert_allclose(eqx.filter_jit(lap)(net, backend), hessian_trace(net), rtol=1e-10)
    grad = eqx.filter_jit(eqx.filter_grad(lambda m: jnp.sum(lap(m, backend) ** 2)))(net)
    ref = eqx.filter_jit(eqx.filter_grad(lambda m: jnp.sum(hessian_trace(m) ** 2)))(net)
    for a, b in zip(jax.tree_util.tree_leaves(grad), jax.tree_util.tree_leaves(ref)):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


def test_collapsed_handles_equinox_activations_and_closures(x64):
    dim = 3
    for activation in (jax.nn.softplus, jax.nn.sigmoid, jax.nn.gelu, jnp.sin):
        net = eqx.nn.MLP(dim, "scalar", 8, 2, activation=activation, key=jax.random.key(0))
        x = jnp.array([0.1, -0.4, 0.7])
        got = eqx.filter_jit(taylor.Exact())(taylor.laplacian(dim), net, x)[1]
        np.testing.assert_allclose(got, jnp.trace(jax.hessian(net)(x)), rtol=1e-10)


def test_function_independent_of_x_gives_zero(x64):
    got = taylor.Exact()(taylor.laplacian(2), lambda x: jnp.float64(3.0), jnp.ones(2))
    assert float(got[1]) == 0.0 and float(got[0]) == 3.0


def test_sparse_input_paths_match_the_hessian(x64):
    """Squared norms, elementwise functions and sums of the input keep unit tangents
    sparse in collapsed mode; they must agree with the Hessian for every operator kind."""

    def u(x):
        return jnp.sum(jnp.sin(x) ** 2) * (1 - x @ x) + jnp.sum(jnp.exp(x)) + jnp.sin(x) @ jnp.sin(x)

    x = jnp.linspace(-0.5, 0.7, 6)
    hess = jax.hessian(u)(x)
    ops = {
        "laplacian": (taylor.laplacian(6), jnp.trace(hess)),
        "mixed": (taylor.partial(6, {0: 1, 3: 1}), hess[0, 3]),
        "trace": (taylor.diffusion_trace(jnp.eye(6)[:, :2]), hess[0, 0] + hess[1, 1]),
    }
    for name, (op, expected) in ops.items():
        got = eqx.filter_jit(taylor.Exact())(op, u, x)[1]
        np.testing.assert_allclose(got, expected, rtol=1e-11, err_msg=name)
