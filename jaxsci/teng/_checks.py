"""Python-time argument checks shared by the TENG steppers and the baselines."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ..internal import check_positive

_TWO_PI = 2.0 * np.pi
_OUTSIDE = "`points` must lie in [0, 2pi)^2; wrap them with `points % (2 * jnp.pi)`."


def check_points(points):
    """``points`` must be an ``(n, 2)`` array inside ``[0, 2pi)^2``.

    Concrete points are checked now; traced points (under ``jit``) get a runtime check
    (``equinox.error_if``) attached, so use the returned array.
    """
    shape = np.shape(points)
    if len(shape) != 2 or shape[1] != 2:
        raise ValueError(f"`points` must have shape (n, 2), got {shape}; e.g. grid_points(32).")
    if isinstance(points, jax.core.Tracer):
        outside = jnp.any(~jnp.isfinite(points) | (points < 0) | (points >= _TWO_PI))
        return eqx.error_if(points, outside, _OUTSIDE)
    pts = np.asarray(points)  # numpy: no device work, even while an outer jit traces
    if not np.all(np.isfinite(pts)) or pts.min() < 0 or pts.max() >= _TWO_PI:
        raise ValueError(f"{_OUTSIDE} Got values in [{pts.min()}, {pts.max()}].")
    return points


def check_periodic_model(model, points, tol: float = 1e-6) -> None:
    """Raise if ``model(x) != model(x + 2pi e_d)`` at a few of the points (when concrete)."""
    if not callable(model):
        raise TypeError(f"`model` must be a callable x -> scalar, got {type(model).__name__}.")
    if isinstance(points, jax.core.Tracer):
        return
    probe = jnp.asarray(np.asarray(points)[:8])
    try:
        u0 = jax.vmap(model)(probe)
    except Exception as err:
        raise TypeError(f"`model` could not be evaluated at points of shape (8, 2): {err}") from err
    if isinstance(u0, jax.core.Tracer):
        return
    if jnp.shape(u0) != (probe.shape[0],):
        raise ValueError(f"`model` must return a scalar per point, got shape {jnp.shape(u0)[1:]}.")
    scale = 1.0 + float(jnp.max(jnp.abs(u0)))
    for d in range(2):
        shifted = jax.vmap(model)(probe.at[:, d].add(_TWO_PI))
        if float(jnp.max(jnp.abs(u0 - shifted))) > tol * scale:
            raise ValueError(
                "the network is not 2pi-periodic (u(x) != u(x + 2pi e_d)); use a periodic "
                "network such as `jaxsci.teng.PeriodicMLP` for a periodic problem."
            )


def check_step_inputs(model, points, dt, problem):
    """``dt > 0``, points in ``[0, 2pi)^2``, a periodic model and a problem with ``operator``.

    Returns ``points`` (with a runtime domain check attached when they are traced)."""
    check_positive(dt, "dt")
    if not callable(getattr(problem, "operator", None)):
        raise TypeError(
            f"`problem` must have a method operator(u, x) -> L[u](x), got {type(problem).__name__}"
            "; use a problem from jaxsci.pde.evolution such as Heat2D()."
        )
    points = check_points(points)
    check_periodic_model(model, points)
    return points
