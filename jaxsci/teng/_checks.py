"""Python-time argument checks shared by the TENG steppers, the fits and :func:`evolve`."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from ..internal import check_positive
from ..pde.evolution import AbstractEvolutionProblem

_TWO_PI = 2.0 * np.pi


def _outside(dim: int) -> str:
    return f"`points` must lie in [0, 2pi)^{dim}; wrap them with `points % (2 * jnp.pi)`."

_DT = ("`dt` must be > 0 (a time step forwards); got a traced dt <= 0 or NaN. Pass a positive "
       "step, e.g. dt=0.01.")


def is_traced(tree) -> bool:
    """True if any leaf of ``tree`` is a tracer (we are inside ``jit``/``vmap``/``grad``)."""
    return any(isinstance(x, jax.core.Tracer) for x in jax.tree_util.tree_leaves(tree))


def check_float_array(x, name: str, hint: str = ""):
    """``x`` must be a floating-point array (integer points would be rounded by ``+ 2pi``)."""
    dtype = getattr(x, "dtype", None)
    if dtype is None:
        x = jnp.asarray(x)
        dtype = x.dtype
    if not jnp.issubdtype(dtype, jnp.floating):
        raise TypeError(
            f"`{name}` must be a floating-point array, got dtype {dtype}; convert it with "
            f"`{name}.astype(float)`" + (f" {hint}" if hint else "") + "."
        )
    return x


def _outside_box(dim: int) -> str:
    return f"`points` must lie in the unit box [0, 1]^{dim} (faces included); e.g. box_grid({dim}, 16)."


def check_points(points, dim: int = 2, periodic: bool = True):
    """``points`` must be a floating ``(n, dim)`` array inside ``[0, 2pi)^dim`` (periodic)
    or ``[0, 1]^dim`` (a bounded problem, faces included).

    Concrete points are checked now; traced points (under ``jit``) get a runtime check
    (``equinox.error_if``) attached, so use the returned array.
    """
    if periodic:
        example = "grid_points(32)" if dim == 2 else f"periodic_grid({dim}, 16)"
        build, upper, message = "grid_points(n)", _TWO_PI, _outside(dim)
    else:
        example, build, upper, message = (f"box_grid({dim}, 16)", f"box_grid({dim}, n)", 1.0,
                                          _outside_box(dim))

    def outside(p, xp):
        above = p >= upper if periodic else p > upper
        return xp.any(~xp.isfinite(p) | (p < 0) | above)

    shape = np.shape(points)
    if len(shape) != 2 or shape[1] != dim:
        raise ValueError(f"`points` must have shape (n, {dim}), got {shape}; e.g. {example}.")
    if shape[0] < 1:
        raise ValueError(f"`points` is empty; pass at least one point, e.g. {example}.")
    points = check_float_array(points, "points", f"(or build them with {build})")
    if isinstance(points, jax.core.Tracer):
        return eqx.error_if(points, outside(points, jnp), message)
    pts = np.asarray(points)  # numpy: no device work, even while an outer jit traces
    if outside(pts, np):
        raise ValueError(f"{message} Got values in [{pts.min()}, {pts.max()}].")
    return points


def check_box_model(problem, model, rows) -> None:
    """On a bounded problem a :class:`BoxMLP` must carry the problem's condition, or be
    unconstrained with boundary rows."""
    from ._network import BoxMLP

    if problem.periodic or not isinstance(model, BoxMLP):
        return
    if model.condition is None and rows is None:
        raise ValueError(
            "this BoxMLP has no boundary condition built in and the stepper has no boundary "
            "rows, so nothing imposes the problem's condition: build the network with "
            f"condition={problem.condition!r}, or pass boundary=BoundaryRows.of(problem, n).")
    if model.condition is not None and model.condition != problem.condition:
        raise ValueError(f"the network satisfies {model.condition} conditions but the problem "
                         f"has {problem.condition} ones; build BoxMLP(..., condition="
                         f"{problem.condition!r}).")


def check_model_values(model, points):
    """``model`` must map a few of the (concrete) points to finite floating scalars.

    Returns ``(probe points, values there)``, or ``None`` when the model or the points are
    traced."""
    if not callable(model):
        raise TypeError(f"`model` must be a callable x -> scalar, got {type(model).__name__}.")
    if is_traced(model) or isinstance(points, jax.core.Tracer):
        return None
    probe = jnp.asarray(np.asarray(points)[:8])
    try:
        u0 = jax.vmap(model)(probe)
    except Exception as err:
        raise TypeError(f"`model` could not be evaluated at points of shape {probe.shape}: "
                        f"{err}") from err
    if jnp.shape(u0) != (probe.shape[0],):
        raise ValueError(f"`model` must return a scalar per point, got shape {jnp.shape(u0)[1:]}.")
    if not jnp.issubdtype(u0.dtype, jnp.floating):
        raise TypeError(f"`model` must return floating-point values, got dtype {u0.dtype}.")
    if not bool(jnp.all(jnp.isfinite(u0))):
        raise ValueError(
            "the network returns NaN/inf at the points; check its parameters (and the initial "
            "fit) for NaN/inf."
        )
    return probe, u0


def check_periodic_model(model, points, tol: float = 1e-6) -> None:
    """Raise if ``model(x) != model(x + 2pi e_d)`` at a few of the points (when concrete)."""
    checked = check_model_values(model, points)
    if checked is None:
        return
    probe, u0 = checked
    scale = 1.0 + float(jnp.max(jnp.abs(u0)))
    for d in range(probe.shape[1]):
        shifted = jax.vmap(model)(probe.at[:, d].add(_TWO_PI))
        if float(jnp.max(jnp.abs(u0 - shifted))) > tol * scale:
            raise ValueError(
                "the network is not 2pi-periodic (u(x) != u(x + 2pi e_d)); use a periodic "
                "network such as `jaxsci.teng.PeriodicMLP` for a periodic problem."
            )


def check_dt(dt):
    """Concrete ``dt`` must be > 0 (``ValueError``); a traced one gets a runtime check."""
    if isinstance(dt, jax.core.Tracer):
        return eqx.error_if(dt, ~(dt > 0), _DT)
    check_positive(dt, "dt")
    return dt


def check_problem(problem) -> None:
    """``problem`` must be a :class:`jaxsci.pde.evolution.AbstractEvolutionProblem`."""
    if not isinstance(problem, AbstractEvolutionProblem):
        raise TypeError(
            "`problem` must be a time-dependent problem of jaxsci.pde.evolution (an "
            f"AbstractEvolutionProblem with operator(u, x) = L[u](x)), got "
            f"{type(problem).__name__}; e.g. Heat2D()."
        )


def check_step_inputs(problem, model, points, dt):
    """``dt > 0``, floating points in the problem's domain (``[0, 2pi)^dim`` or
    ``[0, 1]^dim``, ``dim = problem.dim``), a periodic model on a periodic problem, and an
    evolution problem.

    Returns ``(points, dt)`` (with runtime checks attached where they are traced)."""
    check_problem(problem)
    dt = check_dt(dt)
    points = check_points(points, problem.dim, problem.periodic)
    if problem.periodic:
        check_periodic_model(model, points)
    else:
        check_model_values(model, points)
    return points, dt
