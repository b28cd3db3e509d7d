"""Boundary conditions as extra least-squares rows of the TENG, OBTI and TDVP fits.

A fit of ``u_theta(points) ~ target`` with rows minimises
``|u_theta(points) - target|^2 + weight^2 |B[u_theta](boundary points)|^2``, ``B[u] = u``
(Dirichlet) or ``du/dn`` (Neumann), homogeneous: the penalty form of the boundary
conditions in the least-squares projection (as in the boundary-aware TENG variants and in
PINN losses). The alternative is a network that satisfies the condition exactly
(:class:`jaxsci.teng.BoxMLP`), which needs no rows.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ..pde._evolution_box import AbstractBoxProblem, boundary_value, check_condition


class BoundaryRows(eqx.Module):
    """Homogeneous boundary conditions as weighted rows of every least-squares fit.

    Build them from a bounded problem with :meth:`of`; pass them to a stepper
    (``TENG(boundary=rows)``, ``TDVP(boundary=rows)``, ``OBTI(..., boundary=rows)``) or to a
    fit (``fit(model, points, target, rows=rows)``).

    Attributes:
        points: ``(m, dim)`` points on the boundary.
        normals: ``(m, dim)`` outward unit normals there (used by Neumann rows).
        condition: ``"dirichlet"`` or ``"neumann"`` (must match the problem's).
        weight: the rows' weight relative to the interior rows (> 0).

    The rows need more damping than the periodic fits: the boundary residual left by the
    initial fit excites directions in which the Jacobian is nearly singular, and the
    default ``GaussNewton()`` (relative damping 1e-12) then takes steps that diverge. On
    ``BoxHeat(2, "dirichlet")`` with a ``BoxMLP`` (width 10, depth 2) fitted to 2.6e-3 on
    a 10 x 10 grid, 10 TENG-Heun steps of ``dt = 0.02`` blew up (relative error 83) with
    damping 1e-12 and weight 10, and stayed accurate with ``GaussNewton(damping=1e-8)``:
    error 2.1e-3 at weight 1 (boundary values 4.8e-3), 7.3e-3 at weight 10 (boundary
    values 1.6e-3, down from 5.5e-3). Use ``GaussNewton(damping=1e-8)`` with rows.

    Example:
        >>> from jaxsci.pde.evolution import BoxHeat
        >>> rows = BoundaryRows.of(BoxHeat(2, "neumann"), 8, weight=10.0)
        >>> rows.values(lambda x: jnp.cos(jnp.pi * x[0])).shape
        (32,)
    """

    points: Float[Array, "m d"]
    normals: Float[Array, "m d"]
    condition: str = eqx.field(static=True)
    weight: float = 1.0

    def __check_init__(self):
        check_condition(self.condition)
        if np.ndim(self.points) != 2 or np.shape(self.normals) != np.shape(self.points):
            raise ValueError("`points` and `normals` must both have shape (m, dim), got "
                             f"{np.shape(self.points)} and {np.shape(self.normals)}.")
        if not isinstance(self.weight, jax.core.Tracer) and not (
                np.isscalar(self.weight) and np.isfinite(self.weight) and self.weight > 0):
            raise ValueError(f"`weight` must be a finite number > 0, got {self.weight!r}.")

    @classmethod
    def of(cls, problem, n: int, *, weight: float = 1.0, dtype=None) -> BoundaryRows:
        """Rows on ``problem.boundary_points(n)`` with the problem's condition."""
        if not isinstance(problem, AbstractBoxProblem):
            raise TypeError("BoundaryRows.of needs a bounded problem (an AbstractBoxProblem "
                            f"such as BoxHeat(2, 'dirichlet')), got {type(problem).__name__}.")
        points, normals = problem.boundary_points(n, dtype)
        return cls(points, normals, problem.condition, weight)

    def values(self, model) -> Float[Array, " m"]:
        """``weight B[model]`` at the boundary points (zero where the condition holds)."""
        vals = jax.vmap(lambda x, n: boundary_value(self.condition, model, x, n))(
            self.points, self.normals)
        return jnp.asarray(self.weight, vals.dtype) * vals

    def error(self, model) -> Float[Array, ""]:
        """The largest ``|B[model]|`` on the boundary points (unweighted)."""
        return jnp.max(jnp.abs(self.values(model))) / self.weight


def check_rows(rows, problem) -> None:
    """``rows`` is ``None`` or :class:`BoundaryRows` matching a bounded ``problem``."""
    if rows is None:
        return
    if not isinstance(rows, BoundaryRows):
        raise TypeError("`boundary` must be jaxsci.teng.BoundaryRows (BoundaryRows.of(problem, "
                        f"n)), got {type(rows).__name__}.")
    if problem is None:
        return
    if not isinstance(problem, AbstractBoxProblem):
        raise ValueError(f"{type(problem).__name__} is periodic: it has no boundary, so drop "
                         "the `boundary` rows.")
    if rows.condition != problem.condition:
        raise ValueError(f"the boundary rows are {rows.condition} but the problem's condition is "
                         f"{problem.condition}; build them with BoundaryRows.of(problem, n).")
    if np.shape(rows.points)[1] != problem.dim:
        raise ValueError(f"the boundary rows' points have dimension {np.shape(rows.points)[1]}, "
                         f"the problem {problem.dim}.")
