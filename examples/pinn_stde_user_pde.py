"""Train a PINN with STDE on a PDE you define yourself.

The problem: a semilinear Poisson equation in the unit ball of R^d,

    Lap u + sin(u) = g,    u = 0 on the sphere,

with the manufactured solution u*(x) = (1 - |x|^2) exp(a . x / sqrt(d)), whose source
follows from Lap[(1 - r^2) e^{b.x}] = e^{b.x} ((1 - r^2) |b|^2 - 4 b.x - 2d).

    python examples/pinn_stde_user_pde.py [--dim 50] [--steps 2000]
"""

import argparse

import equinox as eqx
import jax
import jax.numpy as jnp
import optax

from jaxsci import core, pde, pinn, taylor


class SineGordonBall(pde.PDEProblem):
    name: str
    domain: pde.Ball
    operators: tuple
    b: jax.Array

    def __init__(self, dim: int, seed: int = 0):
        self.name = f"sine-Gordon in the {dim}-ball"
        self.domain = pde.Ball(dim)
        self.operators = (taylor.laplacian(dim),)
        self.b = jax.random.normal(jax.random.key(seed), (dim,)) / jnp.sqrt(dim)

    def solution(self, x):
        return (1.0 - x @ x) * jnp.exp(self.b @ x)

    def source(self, x):
        e, r2, d = jnp.exp(self.b @ x), x @ x, x.shape[0]
        lap = e * ((1.0 - r2) * (self.b @ self.b) - 4.0 * (self.b @ x) - 2.0 * d)
        return lap + jnp.sin(self.solution(x))

    def residual(self, x, u, derivatives):
        (lap,) = derivatives
        return lap + jnp.sin(u) - self.source(x)

    def hard_constraint(self, net):
        return lambda x: (1.0 - x @ x) * net(x)


def main(dim: int = 50, steps: int = 2000, backend=None, progress: bool = True) -> float:
    problem = SineGordonBall(dim)
    backend = backend or taylor.SparseSTDE(8)  # try taylor.Exact() or taylor.DenseSTDE(8)
    net = eqx.nn.MLP(dim, "scalar", 64, 2, activation=jnp.tanh, key=jax.random.key(0))
    test = problem.test_points(1000, key=jax.random.key(9))
    exact = jax.vmap(problem.solution)(test)

    def loss(model, points, key):
        return pinn.residual_loss(problem, problem.hard_constraint(model), points, backend, key=key)

    def error(model):
        return core.relative_l2(jax.vmap(problem.hard_constraint(model))(test), exact)

    # the optimizer is one object: optax.lbfgs() (on a fixed set of points) swaps in for Adam
    result = pinn.train(
        net, loss, optax.adam(optax.linear_schedule(2e-3, 0.0, steps)), steps=steps,
        key=jax.random.key(1), sample=lambda k: pinn.uniform(problem.domain, 100, key=k),
        evaluate=error, chunk=max(steps // 4, 1), progress=progress,
    )
    print(f"{problem.name}: relative L2 error {float(error(net)):.2e} -> {result.history_error[-1]:.2e} "
          f"after {steps} steps ({result.history_wall_time[-1]:.1f} s)")
    return float(result.history_error[-1])


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--dim", type=int, default=50)
    parser.add_argument("--steps", type=int, default=2000)
    args = parser.parse_args()
    main(args.dim, args.steps)
