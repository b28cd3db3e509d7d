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

from jaxsci import pinn, taylor
from jaxsci.pde.classical import Poisson2D
from jaxsci.pde.highdim import BallProblem


def _train(problem, backend, net, steps, batch, lr, test_points):
    exact = jax.vmap(problem.solution)(test_points)

    def loss(model, points, key):
        return pinn.residual_loss(problem, problem.hard_constraint(model), points, backend, key)

    def error(model):
        return pinn.relative_l2(problem.hard_constraint(model), exact, test_points)

    start = time.perf_counter()
    result = pinn.train(net, loss, optax.adam(optax.linear_schedule(lr, 0.0, steps)), steps,
                        key=jax.random.key(1), sample_points=lambda k: problem.domain.sample(k, batch),
                        evaluate=error, eval_every=max(steps // 10, 1), progress=False)
    return result, time.perf_counter() - start, float(error(net))


def run(out_dir: Path) -> list[dict]:
    rows, curves = [], {}
    dim = 100
    problem = BallProblem(dim, "two_body", "allen_cahn")
    net = eqx.nn.MLP(dim, "scalar", 128, 3, activation=jnp.tanh, key=jax.random.key(0))
    test = problem.test_points(jax.random.key(9), 5000)
    result, seconds, before = _train(problem, taylor.SparseSTDE(16), net, 2000, 100, 1e-3, test)
    rows.append(dict(family="pinn", problem=f"two-body Allen-Cahn, d={dim}", method="SparseSTDE(16), 2000 Adam steps",
                     error=float(result.error[-1]), seconds=seconds,
                     note=f"rel. L2 on 5000 points; untrained {before:.2f}; {2000 / seconds:.0f} it/s incl. compile"))
    curves[problem.name + " (STDE)"] = result

    problem2 = Poisson2D()
    net2 = eqx.nn.MLP(2, "scalar", 32, 3, activation=jnp.tanh, key=jax.random.key(0))
    test2 = problem2.domain.sample(jax.random.key(9), 2000)
    result2, seconds2, before2 = _train(problem2, taylor.Exact(), net2, 1500, 64, 3e-3, test2)
    rows.append(dict(family="pinn", problem="2D Poisson (manufactured)", method="Exact (collapsed), 1500 Adam steps",
                     error=float(result2.error[-1]), seconds=seconds2,
                     note=f"rel. L2 on 2000 points; untrained {before2:.2f}"))
    curves[problem2.name] = result2
    _plot(curves, out_dir)
    return rows


def _plot(curves, out_dir: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.5))
    for label, result in curves.items():
        ax.semilogy(result.steps, result.error, "o-", label=label)
    ax.set_xlabel("Adam steps")
    ax.set_ylabel("relative L2 error")
    ax.set_title("PINN training")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out_dir / "pinn_error.png", dpi=120)
    plt.close(fig)
