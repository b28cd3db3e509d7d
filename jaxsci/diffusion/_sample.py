"""The sampler interface and the result every sampler returns."""

import abc
from collections.abc import Callable

import equinox as eqx
from jaxtyping import Array, ArrayLike, Float, Int, PRNGKeyArray

from ..core import RESULTS
from ._schedule import AbstractSchedule


class Sample(eqx.Module):
    """What a sampler returns.

    Attributes:
        x: the sample (the shape of ``x_T``).
        nfe: model evaluations made.
        num_steps: steps taken (for fixed grids ``len(grid) - 1``, plus the restarts'
            steps for ``Restart``; for the adaptive solver, accepted plus rejected steps).
        num_accepted, num_rejected: accepted and rejected steps (fixed grids: every step is
            accepted).
        result: a :class:`jaxsci.core.RESULTS` code: ``successful``, ``nonfinite_values``
            (the model returned NaN/inf, or ``x_T`` held NaN/inf), or ``max_steps_reached``
            (adaptive solver). With a sampler's ``throw=True`` (the default) a failure
            raises instead, inside ``jit`` too.

    Example:
        >>> from jaxsci import diffusion as D
        >>> s = D.VPLinear(); model = D.GaussianEps(s, jnp.zeros(2), 0.5)
        >>> out = D.DDIM()(model, s, jnp.ones(2), D.time_grid(s, 4))
        >>> int(out.nfe), bool(out.result == jaxsci.core.RESULTS.successful)
        (4, True)
    """

    x: Float[Array, "..."]
    nfe: Int[Array, ""]
    num_steps: Int[Array, ""]
    num_accepted: Int[Array, ""]
    num_rejected: Int[Array, ""]
    result: RESULTS


class AbstractSampler(eqx.Module):
    """A diffusion sampler: ``sampler(model, schedule, x_T, grid, *, key=None) -> Sample``.

    ``model(x, t)`` is any JAX callable on one sample ``x`` (``vmap`` the sampler over a
    batch); what it predicts is the sampler's ``parametrization`` field (``"eps"``,
    ``"x0"``, ``"v"``, ``"score"`` or ``"flow"``). ``grid`` is a decreasing array of times
    (:func:`time_grid`). Hyperparameters are fields, checked when the sampler is built; a
    sampler works under ``jit``, ``vmap`` and ``grad``. Swapping one sampler for another is
    changing this one object.

    Example:
        >>> from jaxsci import diffusion as D
        >>> s = D.VPLinear(); model = D.GaussianEps(s, jnp.zeros(2), 0.5)
        >>> for sampler in (D.DDIM(), D.DPMSolverPP(order=2), D.UniPC(order=2)):
        ...     x0 = sampler(model, s, jnp.ones(2), D.time_grid(s, 5)).x
    """

    throw: eqx.AbstractVar[bool]

    @abc.abstractmethod
    def __call__(self, model: Callable, schedule: AbstractSchedule, x_T: Float[ArrayLike, "..."],
                 grid: Float[ArrayLike, " n+1"], *, key: PRNGKeyArray | None = None) -> Sample:
        """Sample from ``x_T`` at ``grid[0]`` down to ``grid[-1]``."""
