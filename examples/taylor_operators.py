"""Evaluate differential operators of a network: exact, collapsed, and STDE estimates.

    python examples/taylor_operators.py
"""

import equinox as eqx
import jax
import jax.numpy as jnp

from jaxsci import taylor


def main(dim: int = 200) -> dict:
    net = eqx.nn.MLP(dim, "scalar", 64, 2, activation=jnp.tanh, key=jax.random.key(0))
    x = jax.random.normal(jax.random.key(1), (dim,)) / jnp.sqrt(dim)
    key = jax.random.key(2)
    results = {}

    # the Laplacian: exact (collapsed Taylor mode) and unbiased 16-direction estimates
    lap = taylor.laplacian(dim)
    results["exact Laplacian"] = taylor.Exact()(lap, net, x)[1]
    results["sparse STDE (16)"] = taylor.SparseSTDE(16)(lap, net, x, key=key)[1]
    results["dense STDE (16)"] = taylor.DenseSTDE(16)(lap, net, x, key=key)[1]

    # any mixed partial, e.g. d^4 u / dx0^3 dx1, and a heat operator with time last
    results["u_xxxy"] = taylor.Exact()(taylor.partial(dim, {0: 3, 1: 1}), net, x)[1]
    heat = taylor.time_derivative(dim) - 0.1 * taylor.laplacian(dim, time_index=dim - 1)
    results["u_t - 0.1 Lap_x u"] = taylor.apply(heat, net, x)

    # independent references by nested reverse/forward-mode AD (jax.hessian, jax.jacfwd)
    hessian = jax.hessian(net)(x)
    results["reference Laplacian (Hessian trace)"] = jnp.trace(hessian)
    along01 = lambda a, b: net(x.at[0].set(a).at[1].set(b))
    d_xxxy = jax.grad(jax.grad(jax.grad(jax.grad(along01, 0), 0), 0), 1)
    results["reference u_xxxy (nested jax.grad)"] = d_xxxy(x[0], x[1])
    results["reference heat (jax.grad, jax.hessian)"] = (
        jax.grad(net)(x)[dim - 1] - 0.1 * (jnp.trace(hessian) - hessian[dim - 1, dim - 1])
    )

    # gradients with respect to the network's parameters flow through every backend
    grads = eqx.filter_grad(lambda m: taylor.SparseSTDE(16)(lap, m, x, key=key)[1])(net)
    results["|grad of STDE Laplacian|"] = jnp.sqrt(
        sum(jnp.sum(g**2) for g in jax.tree_util.tree_leaves(grads))
    )
    for name, value in results.items():
        print(f"{name:28s} {float(value): .6f}")
    return results


if __name__ == "__main__":
    main()
