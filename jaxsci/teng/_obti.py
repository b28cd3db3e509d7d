"""OBTI baseline: optimization-based time integration (the TENG targets fitted by a
first-order or quasi-Newton optimizer instead of Gauss-Newton; Chen et al. 2024, Sec. 2)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import optax
from jaxtyping import Array, Float

from ..core import ravel_model
from ..internal import check_finite, check_one_of, check_positive, check_positive_int
from ._checks import check_step_inputs
from ._step import rk_fit_step
from ._tableau import HEUN, Tableau

OPTIMIZERS = ("adam", "lbfgs")


def optax_fit(model, points, target, *, optimizer: str = "adam", steps: int = 100,
              learning_rate: float = 1e-3):
    """Minimise ``mean (model(points) - target)^2`` by ``steps`` optax updates (fresh state).

    ``optimizer`` is ``"adam"`` (``optax.adam(learning_rate)``) or ``"lbfgs"``
    (``optax.lbfgs()`` with its zoom line search; ``learning_rate`` unused).
    """
    theta, rebuild = ravel_model(model)

    def loss(th):
        return jnp.mean((jax.vmap(rebuild(th))(points) - target) ** 2)

    if optimizer == "adam":
        opt = optax.adam(learning_rate)

        def body(_, carry):
            th, state = carry
            grad = jax.grad(loss)(th)
            updates, state = opt.update(grad, state, th)
            return optax.apply_updates(th, updates), state
    else:
        opt = optax.lbfgs()
        value_and_grad = optax.value_and_grad_from_state(loss)

        def body(_, carry):
            th, state = carry
            value, grad = value_and_grad(th, state=state)
            updates, state = opt.update(grad, state, th, value=value, grad=grad, value_fn=loss)
            return optax.apply_updates(th, updates), state

    theta, _ = jax.lax.fori_loop(0, steps, body, (theta, opt.init(theta)))
    theta = check_finite(theta, "OBTI produced non-finite parameters; lower learning_rate.")
    return rebuild(theta)


def obti_step(
    model,
    t: float | Array,
    problem,
    points: Float[Array, "n 2"],
    dt: float | Array,
    *,
    tableau: Tableau = HEUN,
    optimizer: str = "adam",
    steps: int = 100,
    learning_rate: float = 1e-3,
):
    """One OBTI step: the targets of :func:`teng_rk_step` fitted with Adam or L-BFGS.

    Args:
        model, t, problem, points, dt, tableau: as :func:`teng_rk_step`.
        optimizer: ``"adam"`` or ``"lbfgs"`` (optax).
        steps: optimizer iterations per fit.
        learning_rate: Adam step size.

    Returns:
        The network ``u_{n+1}``.

    Example:
        >>> net = obti_step(net, 0.0, Heat2D(), grid_points(16), 0.01, optimizer="lbfgs")
    """
    points = check_step_inputs(model, points, dt, problem)
    check_one_of(optimizer, OPTIMIZERS, "optimizer")
    check_positive_int(steps, "steps")
    check_positive(learning_rate, "learning_rate")
    del t

    def fit(_, start, target):
        return optax_fit(start, points, target, optimizer=optimizer, steps=steps,
                         learning_rate=learning_rate)

    return rk_fit_step(model, problem, points, dt, tableau, fit)
