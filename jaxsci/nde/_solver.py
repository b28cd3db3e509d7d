"""A diffrax solver wrapper that accumulates the solver's own heuristics in its state.

diffrax keeps a step's new solver state only when the controller accepts the step, so
whatever this wrapper adds to its state counts accepted steps only. The totals are read
back with ``SaveAt(solver_state=True)`` and are differentiable under
``RecursiveCheckpointAdjoint`` (the recipe of diffrax issue #196).
"""

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, Int, PRNGKeyArray, PyTree

from jaxsci.nde._heuristics import check_stiffness_tableau, scaled_error, stiffness_estimate


class Heuristics(eqx.Module):
    """Running totals over accepted steps (Pal et al., ICML 2021, Sec. 3).

    Attributes:
        error: R_E = sum_j E_j |dt_j|, E_j the scaled RMS local error estimate.
        stiffness: R_S = sum_j S_j, S_j = |dt_j| rho_j / r, Hairer's eigenvalue estimate
            rho_j relative to the stability boundary r (0 when not requested).
        accepted: number of accepted steps.
        sample_t, sample_y, sample_dt: one accepted step drawn uniformly at random by
            reservoir sampling (only when the wrapper has a ``sample_key``): the
            "biased" draw of the local regularizer (Pal et al., ICML 2023, Sec. 3.2).
    """

    error: Float[Array, ""]
    stiffness: Float[Array, ""]
    accepted: Int[Array, ""]
    sample_t: Float[Array, ""]
    sample_y: PyTree[Array]
    sample_dt: Float[Array, ""]


class HeuristicsSolver(diffrax.AbstractAdaptiveSolver, diffrax.AbstractWrappedSolver):
    """Wraps an adaptive diffrax solver and sums its error (and stiffness) estimates.

    Args:
        solver: the adaptive solver that does the work (e.g. ``diffrax.Tsit5()``).
        rtol: the controller's relative tolerance, so that E_j is the number it uses.
        atol: the controller's absolute tolerance.
        stiffness: also accumulate Hairer's stiffness estimate (Tsit5, Dopri5).
        stability_radius: r in S_j (from ``stability_boundary(solver.tableau)``).
        sample_key: if given, also keep one uniformly drawn accepted step.
        differentiate_denominator: let gradients through the stiffness estimate's
            denominator (see ``stiffness_estimate``).
    """

    solver: diffrax.AbstractSolver
    rtol: float
    atol: float
    stiffness: bool = eqx.field(static=True)
    stability_radius: float = 1.0
    sample_key: PRNGKeyArray | None = None
    differentiate_denominator: bool = eqx.field(static=True, default=False)

    def __check_init__(self):
        if self.stiffness:
            check_stiffness_tableau(self.solver)

    @property
    def term_structure(self):
        return self.solver.term_structure

    @property
    def interpolation_cls(self):  # pyright: ignore
        return self.solver.interpolation_cls

    @property
    def term_compatible_contr_kwargs(self):
        return self.solver.term_compatible_contr_kwargs

    def order(self, terms):
        return self.solver.order(terms)

    def strong_order(self, terms):
        return self.solver.strong_order(terms)

    def error_order(self, terms):
        return self.solver.error_order(terms)

    def init(self, terms, t0, t1, y0, args):
        dtype = jnp.result_type(*jax.tree_util.tree_leaves(y0))
        zero = jnp.zeros((), dtype)
        totals = Heuristics(
            error=zero,
            stiffness=zero,
            accepted=jnp.zeros((), jnp.int32),
            sample_t=jnp.asarray(t0, dtype),
            sample_y=y0,
            sample_dt=zero,
        )
        return self.solver.init(terms, t0, t1, y0, args), totals

    def step(self, terms, t0, t1, y0, args, solver_state, made_jump):
        inner_state, totals = solver_state
        y1, y_error, dense_info, inner_state, result = self.solver.step(
            terms, t0, t1, y0, args, inner_state, made_jump
        )
        dt = jnp.abs(t1 - t0)
        error_j = scaled_error(y0, y1, y_error, self.rtol, self.atol)
        stiff_j = (
            stiffness_estimate(self.solver.tableau, dense_info["k"], self.differentiate_denominator)
            / self.stability_radius
            if self.stiffness
            else jnp.zeros_like(error_j)
        )
        n = totals.accepted
        if self.sample_key is None:
            take = jnp.array(False)
        else:
            u = jax.random.uniform(jax.random.fold_in(self.sample_key, n))
            take = u * (n + 1) < 1.0  # replace with probability 1/(n+1): a uniform draw
        choose = lambda new, old: jnp.where(take, new, old)
        totals = Heuristics(
            error=totals.error + error_j.astype(totals.error.dtype) * dt,
            stiffness=totals.stiffness + stiff_j.astype(totals.stiffness.dtype),
            accepted=n + 1,
            sample_t=choose(jnp.asarray(t0, totals.sample_t.dtype), totals.sample_t),
            sample_y=jax.tree_util.tree_map(choose, y0, totals.sample_y),
            sample_dt=choose(dt.astype(totals.sample_dt.dtype), totals.sample_dt),
        )
        return y1, y_error, dense_info, (inner_state, totals), result

    def func(self, terms, t0, y0, args):
        return self.solver.func(terms, t0, y0, args)
