"""Time-step grids for samplers (DPM-Solver, Lu et al. 2022, Sec. 3.3)."""

from __future__ import annotations

import jax.numpy as jnp
from jaxtyping import Array, Float

from jaxsci.core import check_one_of, check_positive_int


def time_grid(schedule, num_steps: int, kind: str = "logSNR") -> Float[Array, " n+1"]:
    """Decreasing grid t_0 = t_max > ... > t_n = t_min.

    kind: "uniform" (uniform in t), "logSNR" (uniform in lambda), "quadratic".
    """
    check_positive_int(num_steps, "num_steps")
    check_one_of(kind, ("uniform", "logSNR", "quadratic"), "kind")
    T, eps = schedule.t_max, schedule.t_min
    if kind == "uniform":
        return jnp.linspace(T, eps, num_steps + 1)
    if kind == "quadratic":
        return jnp.linspace(T**0.5, eps**0.5, num_steps + 1) ** 2
    lam = jnp.linspace(schedule.lambda_(T), schedule.lambda_(eps), num_steps + 1)
    return schedule.inverse_lambda(lam)
