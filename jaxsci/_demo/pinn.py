"""Demo: PINNs with exact and stochastic (STDE) derivatives.

* two-body Allen-Cahn on the unit ball in R^100 (the STDE paper's problem), sparse STDE
  with 16 directions per point, against the exact solution;
* 2D Poisson with a manufactured solution and exact boundary data (hard constraint),
  exact Laplacian by collapsed Taylor mode.
"""

from __future__ import annotations

import time
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import optax

from jaxsci import core, pinn, taylor
from jaxsci.pde.classical import Poisson2D
from jaxsci.pde.highdim import BallProblem

from . import pyplot


def _train(problem, backend, net, steps, batch, lr, test_points):
    exact = jax.vmap(problem.solution)(test_points)

    def loss(model, points, key):
        return pinn.residual_loss(problem, problem.hard_constraint(model), points, backend, key=key)

    def error(model):
        return core.relative_l2(jax.vmap(problem.hard_constraint(model))(test_points), exact)

    start = time.perf_counter()
    result = pinn.train(net, loss, optax.adam(optax.linear_schedule(lr, 0.0, steps)), steps=steps,
                        key=jax.random.key(1), sample=lambda k: pinn.uniform(problem.domain, batch, key=k),
                        evaluate=error, chunk=max(steps // 10, 1), progress=False)
    return result, time.perf_counter() - start, float(error(net))


def run(out_dir: Path, quick: bool = False) -> list[dict]:
    rows, curves = [], {}
    # quick: the same problems in dimension 10 with a smaller network and fewer steps
    dim, width, steps, num_test = (10, 32, 400, 1000) if quick else (100, 128, 2000, 5000)
    problem = BallProblem(dim, "two_body", "allen_cahn")
    net = eqx.nn.MLP(dim, "scalar", width, 3, activation=jnp.tanh, key=jax.random.key(0))
    test = problem.test_points(num_test, key=jax.random.key(9))
    result, seconds, before = _train(problem, taylor.SparseSTDE(16 if not quick else 4), net, steps, 100,
                                     1e-3 if not quick else 3e-3, test)
    rows.append(dict(family="pinn", problem=f"two-body Allen-Cahn, d={dim}",
                     method=f"SparseSTDE({4 if quick else 16}), {steps} Adam steps",
                     error=float(result.history_error[-1]), seconds=seconds,
                     note=f"rel. L2 on {num_test} points; untrained {before:.2f}; {steps / seconds:.0f} it/s incl. compile"))
    curves[problem.name + " (STDE)"] = result

    problem2 = Poisson2D()
    net2 = eqx.nn.MLP(2, "scalar", 32, 3, activation=jnp.tanh, key=jax.random.key(0))
    test2 = problem2.domain.sample(2000, key=jax.random.key(9))
    steps2 = 400 if quick else 1500
    result2, seconds2, before2 = _train(problem2, taylor.Exact(), net2, steps2, 64, 3e-3, test2)
    rows.append(dict(family="pinn", problem="2D Poisson (manufactured)", method=f"Exact (collapsed), {steps2} Adam steps",
                     error=float(result2.history_error[-1]), seconds=seconds2,
                     note=f"rel. L2 on 2000 points; untrained {before2:.2f}"))
    curves[problem2.name] = result2
    _plot(curves, out_dir)
    return rows


def _plot(curves, out_dir: Path) -> None:
    plt = pyplot()
    if plt is None:
        return

    fig, ax = plt.subplots(figsize=(5, 3.5))
    for label, result in curves.items():
        ax.semilogy(result.history_step, result.history_error, "o-", label=label)
    ax.set_xlabel("Adam steps")
    ax.set_ylabel("relative L2 error")
    ax.set_title("PINN training")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out_dir / "pinn_error.png", dpi=120)
    plt.close(fig)
