"""TENG-Euler and TENG-Heun time steps (Chen et al., ICML 2024, Sec. 3, Eqs. 7-9).

A step forms a target from the PDE, ``u_n + dt L[u_n]`` (Euler) or
``u_n + dt/2 (L[u_n] + L[u_tmp])`` (Heun, with ``u_tmp`` the Euler result), and fits the
network to it at the points with a few Gauss-Newton least-squares iterations.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from jaxsci.core import check_key, check_positive, check_positive_int

from ._fit import gauss_newton_fit

_TWO_PI = 2.0 * np.pi


def check_periodic_problem_inputs(model, points, dt) -> None:
    """Python-time checks: ``dt > 0``, points in ``[0, 2pi)^2``, model periodic."""
    if not isinstance(dt, jax.core.Tracer):
        check_positive(dt, "dt")
    if isinstance(points, jax.core.Tracer):
        return
    pts = np.asarray(points)
    if pts.ndim != 2 or pts.shape[1] != 2:
        raise ValueError(f"`points` must have shape (n, 2), got {pts.shape}.")
    if pts.min() < 0 or pts.max() >= _TWO_PI:
        raise ValueError(
            f"`points` must lie in [0, 2pi)^2, got values in [{pts.min()}, {pts.max()}]; "
            "wrap them with `points % (2 * jnp.pi)`."
        )
    try:
        probe = jnp.asarray(pts[:8])
        u0 = jax.vmap(model)(probe)
        shifted = jax.vmap(model)(probe + _TWO_PI)
    except jax.errors.ConcretizationTypeError:
        return
    if not isinstance(u0, jax.core.Tracer):
        scale = 1.0 + float(jnp.max(jnp.abs(u0)))
        if float(jnp.max(jnp.abs(u0 - shifted))) > 1e-5 * scale:
            raise ValueError(
                "the network is not 2pi-periodic (u(x) != u(x + 2pi)); use a periodic "
                "network such as `jaxsci.teng.PeriodicMLP` for a periodic problem."
            )


def _rhs(model, problem, points):
    return jax.vmap(lambda x: problem.operator(model, x))(points)


def teng_euler(
    model,
    t: float | Array,
    problem,
    points: Float[Array, "n 2"],
    dt: float,
    *,
    iterations: int = 5,
    damping: float = 0.0,
    rcond: float | None = None,
    num_columns: int | None = None,
    key: Array | None = None,
):
    """One TENG-Euler step: fit ``u_{n+1} ~ u_n + dt L[u_n]`` (Chen et al. 2024, Eq. 8).

    Args:
        model: the network ``u_n`` (an equinox module, scalar output).
        t: current time (the problems here are autonomous; kept for the signature).
        problem: has ``operator(u, x)`` giving ``L[u](x)``.
        points: ``(n, 2)`` sample points in ``[0, 2pi)^2``.
        dt: time step, ``> 0``.
        iterations: Gauss-Newton iterations per fit.
        damping, rcond: least-squares regularisation (see ``jaxsci.core.least_squares``).
        num_columns: fit a random subset of this many parameters per iteration (needs key).
        key: PRNG key, used only with ``num_columns``.

    Returns:
        The network ``u_{n+1}``.

    Example:
        >>> new = teng_euler(net, 0.0, Heat2D(), grid_points(16), 1e-3)
    """
    check_periodic_problem_inputs(model, points, dt)
    _check_iter(iterations, num_columns, key)
    del t
    target = jax.vmap(model)(points) + dt * _rhs(model, problem, points)
    return gauss_newton_fit(model, points, target, iterations=iterations, damping=damping,
                            rcond=rcond, num_columns=num_columns, key=key)


def teng_heun(
    model,
    t: float | Array,
    problem,
    points: Float[Array, "n 2"],
    dt: float,
    *,
    iterations: int = 5,
    damping: float = 0.0,
    rcond: float | None = None,
    num_columns: int | None = None,
    key: Array | None = None,
):
    """One TENG-Heun step (Chen et al. 2024, Eq. 9): ``u_tmp`` by TENG-Euler, then fit
    ``u_{n+1} ~ u_n + dt/2 (L[u_n] + L[u_tmp])``. Arguments as :func:`teng_euler`.

    Example:
        >>> new = teng_heun(net, 0.0, Heat2D(), grid_points(16), 1e-3)
    """
    check_periodic_problem_inputs(model, points, dt)
    _check_iter(iterations, num_columns, key)
    k1 = k2 = None if key is None else jax.random.split(key)
    if key is not None:
        k1, k2 = k1[0], k1[1]
    u_n = jax.vmap(model)(points)
    l_n = _rhs(model, problem, points)
    fit = dict(iterations=iterations, damping=damping, rcond=rcond, num_columns=num_columns)
    tmp = gauss_newton_fit(model, points, u_n + dt * l_n, key=k1, **fit)
    target = u_n + 0.5 * dt * (l_n + _rhs(tmp, problem, points))
    return gauss_newton_fit(tmp, points, target, key=k2, **fit)


def _check_iter(iterations, num_columns, key) -> None:
    check_positive_int(iterations, "iterations")
    if num_columns is not None:
        check_positive_int(num_columns, "num_columns")
        if key is None:
            raise ValueError("`num_columns` needs a PRNG `key`: pass key=jax.random.key(seed).")
        check_key(key)
