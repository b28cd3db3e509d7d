"""OBTI baseline: optimization-based time integration (the TENG targets fitted by a
first-order or quasi-Newton optimizer instead of Gauss-Newton; Chen et al. 2024, Sec. 2)."""

from __future__ import annotations

import equinox as eqx
import optax

from .. import taylor
from ._boundary import BoundaryRows
from ._fit import OptaxFit
from ._step import AbstractStepper, StepSolution, rk_fit_step, stage_keys
from ._tableau import HEUN, Tableau


class OBTI(AbstractStepper):
    """OBTI: the Runge-Kutta targets of :class:`TENG` fitted by an optax optimizer.

    Every fit takes ``steps`` updates of ``optimizer`` from a fresh optimizer state on
    ``mean (u(points) - target)^2`` (:class:`OptaxFit`, the training step of
    :func:`jaxsci.core.fit`). ``OBTI(optimizer, steps, tableau)`` is
    ``TENG(tableau, fit=OptaxFit(optimizer, steps))``.

    Args:
        optimizer: an optax transformation, e.g. ``optax.adam(1e-3)`` or ``optax.lbfgs()``.
        steps: optimizer updates per fit.
        tableau: the explicit Runge-Kutta method (default :data:`HEUN`).
        boundary: :class:`BoundaryRows` added to every fit's loss (bounded problems only).
        backend: the :mod:`jaxsci.taylor` backend of ``L[u]`` (as :class:`TENG`'s).

    Example:
        >>> from jaxsci.pde.evolution import Heat2D, grid_points
        >>> net = jaxsci.teng.PeriodicMLP(2, 2, 4, 1, key=jax.random.key(0))
        >>> sol = OBTI(optax.adam(1e-4), steps=3)(Heat2D(), net, grid_points(4), 0.0, 0.01)
        >>> sol.model(jnp.zeros(2)).shape
        ()
    """

    optimizer: optax.GradientTransformation
    steps: int = eqx.field(static=True, default=100)
    tableau: Tableau = HEUN
    boundary: BoundaryRows | None = None
    backend: taylor.AbstractBackend | None = None

    def __check_init__(self):
        OptaxFit(self.optimizer, self.steps)  # validates both
        if not isinstance(self.tableau, Tableau):
            raise TypeError("`tableau` must be a jaxsci.teng.Tableau (EULER, HEUN, RK4 or your "
                            f"own), got {type(self.tableau).__name__}.")

    @property
    def fit(self) -> OptaxFit:
        """The fit strategy of every stage."""
        return OptaxFit(self.optimizer, self.steps)

    def failure_message(self, dtype) -> str:
        return (f"OBTI ({self.tableau.name}, {self.steps} optimizer steps per fit) produced "
                "NaN/inf; lower the learning rate, and check the network's parameters and the "
                "initial condition for NaN/inf.")

    def step(self, problem, model, points, t, dt, *, key=None) -> StepSolution:
        del t
        _, operator_keys = stage_keys(key, self.tableau.stages)
        keys = [None] * self.tableau.stages
        return rk_fit_step(problem, model, points, dt, self.tableau, self.fit, keys,
                           rows=self.boundary, backend=self.backend, operator_keys=operator_keys)


