"""Add solver-heuristic regularization to an existing diffrax neural ODE.

Your diffrax code stays as it is; wrap the solver in ``HeuristicsSolver`` (it reads rtol
and atol from the controller you pass it, the same one diffeqsolve uses) and read the
accumulated error estimate R_E (Pal et al., ICML 2021) from the final solver state:

    controller = diffrax.PIDController(rtol=rtol, atol=atol)
    solver = HeuristicsSolver(diffrax.Tsit5(), controller)
    sol = diffrax.diffeqsolve(..., solver=solver, stepsize_controller=controller,
                              saveat=SaveAt(t1=True, solver_state=True))
    loss = task_loss + weight * read_heuristics(sol).error

Here: an MLP field learns to map x to x + sin(2x) / 2 at t = 1, trained with and without
R_E; the script prints the fit (mean squared error at t = 1 against the target map) and the
number of solver steps of each. The weight trades
one against the other (the full comparison is benchmarks/nde_regularization.py).
"""

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import optax

from jaxsci.core import fit
from jaxsci.nde import HeuristicsSolver, read_heuristics

RTOL = ATOL = 1e-7
CONTROLLER = diffrax.PIDController(rtol=RTOL, atol=ATOL)


class Field(eqx.Module):
    mlp: eqx.nn.MLP

    def __call__(self, t, y, args):
        return jax.vmap(self.mlp)(y)


def solve(field, y0, regularized):
    solver = diffrax.Tsit5()
    if regularized:
        solver = HeuristicsSolver(solver, CONTROLLER)
    sol = diffrax.diffeqsolve(
        diffrax.ODETerm(field), solver, 0.0, 1.0, 0.05, y0,
        saveat=diffrax.SaveAt(t1=True, solver_state=regularized),
        stepsize_controller=CONTROLLER, max_steps=4096,
    )
    penalty = read_heuristics(sol).error if regularized else 0.0
    return sol.ys[-1], penalty, sol.stats["num_steps"]


def train(regularized, steps, weight=1e-3, seed=0):
    x = jnp.linspace(-2.0, 2.0, 64)[:, None]
    target = x + 0.5 * jnp.sin(2 * x)  # monotone: a 1D flow map must be
    field = Field(eqx.nn.MLP(1, 1, 32, 2, activation=jnp.tanh, key=jax.random.key(seed)))

    def loss(f, batch, key):
        y1, penalty, _ = solve(f, x, regularized)
        return jnp.mean((y1 - target) ** 2) + weight * penalty

    if steps > 0:  # jaxsci's training loop: jitted optax steps, NaN/inf checked
        field = fit(loss, field, optax.adam(1e-2), steps=steps, key=jax.random.key(seed),
                    progress=False).model
    y1, _, num_steps = solve(field, x, False)
    return float(jnp.mean((y1 - target) ** 2)), int(num_steps)


def main(steps=400):
    results = {"untrained": train(False, 0)}  # the fit of the initial field, for scale
    for regularized in (False, True):
        mse, num_steps = train(regularized, steps)
        results["R_E" if regularized else "plain"] = (mse, num_steps)
        print(f"{'with R_E' if regularized else 'plain   '}: fit MSE {mse:.2e}, solver steps {num_steps}")
    return results


if __name__ == "__main__":
    main()
