"""UniPC: the unified predictor-corrector (Zhao, Bai, Rao, Zhou, Lu, NeurIPS 2023).

In data prediction, with ``hh = -h`` and ``B(h) = hh`` (``bh1``) or ``expm1(hh)`` (``bh2``),
a step from ``t`` to ``s`` of order ``p`` uses the divided differences
``D_j = (x0_j - x0_t) / r_j`` of earlier outputs at ``r_j = (lambda_j - lambda_t) / h``:

    predictor (UniP-p):  x_s = (sigma_s/sigma_t) x_t - alpha_s expm1(hh) x0_t - alpha_s B(h) sum_j a_j D_j
    corrector (UniC-p):  the same with one more difference, (x0(x_s, s) - x0_t) at r = 1,

where the weights solve ``R a = b``, ``R_{ij} = r_j^{i-1}``, ``b_i = h phi_{i+1}(hh) i! / B(h)``
(the paper's Algorithms 1-2 and Theorem 3.1). The corrector reuses the model evaluation at
``x_s`` that the next step needs anyway, so it costs no NFE; the last step is not corrected.

Dynamic compensation (DC-Solver; Zhao, Wang, Zhou, Lu, ECCV 2024, Sec. 3.2, eq. 9): the model
output at ``t_i`` was evaluated at the predicted, not the corrected, sample. Before the
predictor leaves ``t_i`` it is replaced by the Lagrange polynomial through the last
``K + 1`` outputs (in ``t``; the earlier ones compensated already) evaluated at ``rho_i t_i + (1 - rho_i) t_{i-1}``; ``rho_i = 1`` is
plain UniPC. The ratios ``rho`` are fitted by :func:`fit_compensation`.
"""

from __future__ import annotations

from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray

from ..internal import check_one_of, check_positive_int
from ._common import (
    check_options,
    final_denoise,
    finish,
    initial_status,
    messages,
    prepare,
    step_orders,
    update_status,
)
from ._sample import AbstractSampler, Sample
from ._schedule import AbstractSchedule


def _weights(order, rks, hh, b_h):
    """``R`` and ``b`` of the order conditions (rows ``r^0 .. r^{order-1}``)."""
    h_phi_k = jnp.expm1(hh) / hh - 1.0
    factorial = 1.0
    rows, rhs = [], []
    for i in range(1, order + 1):
        rows.append(rks ** (i - 1))
        rhs.append(h_phi_k * factorial / b_h)
        factorial *= i + 1
        h_phi_k = h_phi_k / hh - 1.0 / factorial
    return jnp.stack(rows), jnp.stack(rhs)


def _differences(order, hist, lams, h):
    """``r_j`` and ``D_j`` for the ``order - 1`` earlier outputs, and ``rks = [r_1.., 1]``."""
    rks = [(lams[j] - lams[0]) / h for j in range(1, order)]
    diffs = [(hist[j] - hist[0]) / r for j, r in zip(range(1, order), rks)]
    return jnp.stack(rks + [jnp.ones_like(h)]), diffs


def _step(order, x, hist, lams, lam_s, t, s, schedule, variant, model_s=None):
    """Predictor (``model_s`` None) or corrector of ``order`` from ``t`` to ``s``."""
    h = lam_s - lams[0]
    hh = -h
    b_h = hh if variant == "bh1" else jnp.expm1(hh)
    a_s = schedule.alpha(s)
    base = schedule.sigma(s) / schedule.sigma(t) * x - a_s * jnp.expm1(hh) * hist[0]
    rks, diffs = _differences(order, hist, lams, h)
    big_r, b = _weights(order, rks, hh, b_h)
    if model_s is None:  # predictor: order - 1 differences
        if order == 1:
            return base
        rhos = jnp.array([0.5], h.dtype) if order == 2 else jnp.linalg.solve(big_r[:-1, :-1], b[:-1])
        return base - a_s * b_h * sum(r * d for r, d in zip(rhos, diffs))
    rhos = jnp.array([0.5], h.dtype) if order == 1 else jnp.linalg.solve(big_r, b)
    correction = sum((r * d for r, d in zip(rhos[:-1], diffs)), jnp.zeros_like(x))
    return base - a_s * b_h * (correction + rhos[-1] * (model_s - hist[0]))


def compensate(hist, grid, i, ratio, order):
    """DC-Solver's compensated output at ``t_i`` (eq. 9): the Lagrange interpolant in ``t`` of
    ``hist[k]`` (the output at ``grid[i - k]``, ``k = 0..order``) at ``ratio t_i + (1 - ratio)
    t_{i-1}``. Before ``order + 1`` outputs exist it returns ``hist[0]`` (warm-up, as the
    paper's Algorithm 1)."""
    ready = i >= order
    # times of the history; before the warm-up ends, distinct dummies keep every
    # denominator (and gradient) finite in the branch that is not taken
    ks = jnp.arange(order + 1)
    times = jnp.where(ready, grid[jnp.maximum(i - ks, 0)], grid[0] + ks.astype(grid.dtype))
    target = ratio * times[0] + (1.0 - ratio) * times[1]
    value = jnp.zeros_like(hist[0])
    for k in range(order + 1):
        weight = 1.0
        for j in range(order + 1):
            if j != k:
                weight = weight * (target - times[j]) / (times[k] - times[j])
        value = value + weight * hist[k]
    return jnp.where(ready, value, hist[0])


class UniPC(AbstractSampler):
    """UniPC multistep sampler (Zhao et al., NeurIPS 2023), data prediction, of ``order`` 1-3:
    the predictor UniP-``order`` and the corrector UniC, which raises each step's order by
    one at no extra NFE. NFE = steps (+1 with ``denoise_to_zero``).

    Attributes:
        order: 1, 2 or 3 (of the predictor).
        variant: ``"bh1"`` (``B(h) = h``) or ``"bh2"`` (``B(h) = e^h - 1``), the paper's two
            choices; a string because it selects one of a closed set of formulas (a
            hyperparameter value, not a strategy object).
        lower_order_final: lower the order of the last steps (always, as UniPC's reference
            settings do).
        parametrization: what the model predicts: ``"eps"``, ``"x0"``, ``"v"``, ``"score"`` or ``"flow"``.
        denoise_to_zero: return the data prediction at the last time (one more NFE).
        compensation: ``None`` (plain UniPC) or DC-Solver's ratios ``rho``, one per grid step
            (Zhao et al., ECCV 2024; the module docstring); ratio ``i`` acts before the step
            from ``grid[i]``, the first ``compensation_order`` are unused (warm-up). Fit them
            with :func:`fit_compensation`; an array leaf, so it is differentiable.
        compensation_order: ``K``, the degree of the Lagrange interpolant (the paper's 2).
        throw: raise on NaN/inf (inside jit too); with ``False`` return ``RESULTS.nonfinite_values``.

    Example:
        >>> from jaxsci import diffusion as D
        >>> s = D.VPLinear(); model = D.GaussianEps(s, jnp.zeros(2), 0.5)
        >>> x0 = D.UniPC(order=3, variant="bh2")(model, s, jnp.ones(2), D.time_grid(s, 8)).x
        >>> dc = D.UniPC(order=3, compensation=jnp.ones(8))  # rho = 1: the same as UniPC
    """

    order: int = eqx.field(default=2, static=True)
    variant: str = eqx.field(default="bh2", static=True)
    lower_order_final: bool = eqx.field(default=True, static=True)
    parametrization: str = eqx.field(default="eps", static=True)
    denoise_to_zero: bool = eqx.field(default=False, static=True)
    compensation: Float[Array, " n"] | None = None
    compensation_order: int = eqx.field(default=2, static=True)
    throw: bool = eqx.field(default=True, static=True)

    def __check_init__(self):
        check_options(self, order=self.order)
        check_one_of(self.variant, ("bh1", "bh2"), "variant")
        check_positive_int(self.compensation_order, "compensation_order")
        if self.compensation is not None:
            shape = jnp.shape(self.compensation)
            if len(shape) != 1:
                raise ValueError(f"UniPC: `compensation` must be a 1-D array of ratios, one per grid step, "
                                 f"got shape {shape}.")
            if not isinstance(self.compensation, jax.core.Tracer) and not np.all(
                    np.isfinite(np.asarray(self.compensation))):
                raise ValueError("UniPC: `compensation` holds NaN/inf; the plain sampler's ratios are all 1.")

    def __call__(self, model: Callable, schedule: AbstractSchedule, x_T: Float[ArrayLike, ...],
                 grid: Float[ArrayLike, " n+1"], *, key: PRNGKeyArray | None = None) -> Sample:
        """Sample from ``x_T`` at ``grid[0]`` (deterministic: ``key`` is not used)."""
        return self._run(model, schedule, x_T, grid, key)[0]

    def trajectory(self, model: Callable, schedule: AbstractSchedule, x_T: Float[ArrayLike, ...],
                   grid: Float[ArrayLike, " n+1"]) -> Float[Array, "n+1 ..."]:
        """The corrected sample at every grid time (``x_T`` first, the returned sample last,
        before ``denoise_to_zero``): what DC-Solver's ratio search compares step by step."""
        return self._run(model, schedule, x_T, grid, None)[1]

    def _run(self, model, schedule, x_T, grid, key):
        p = prepare(self, model, schedule, x_T, grid, key)
        grid, lam, data = p.grid, p.lam, p.data
        order, variant = self.order, self.variant
        n = grid.shape[0] - 1
        if self.compensation is not None and self.compensation.shape != (n,):
            raise ValueError(f"UniPC: `compensation` has {self.compensation.shape[0]} ratios but the grid has "
                             f"{n} steps; fit one ratio per step (fit_compensation) for this grid.")
        ratios = jnp.ones((n,), grid.dtype) if self.compensation is None else self.compensation.astype(grid.dtype)
        orders = step_orders(n + int(self.denoise_to_zero), order, self.lower_order_final,
                             always_lower_final=True)[:n]

        def predict(k, args):
            branches = [lambda a, q=q: _step(q, *a, schedule, variant) for q in range(1, order + 1)]
            return jax.lax.switch(k - 1, branches, args)

        def correct(k, args, model_s):
            branches = [lambda a, q=q: _step(q, *a, schedule, variant, model_s) for q in range(1, order + 1)]
            return jax.lax.switch(k - 1, branches, args)

        def step(carry, inputs):
            # carry: the predicted x at t_i, and the previous step's start, history and order
            x_pred, x_prev, hist, dc_hist, lams, k_prev, status = carry
            i, k = inputs
            t = grid[i]
            m = data(x_pred, t)
            corrected = correct(k_prev, (x_prev, hist, lams, lam[i], grid[jnp.maximum(i - 1, 0)], t), m)
            x = jnp.where(i > 0, corrected, x_pred)
            hist = (m,) + hist[:-1]
            if self.compensation is not None:  # the nodes are the earlier compensated outputs (eq. 9)
                dc_hist = (m,) + dc_hist[:-1]
                m_dc = compensate(dc_hist, grid, i, ratios[i], dc_order)
                dc_hist = (m_dc,) + dc_hist[1:]
                hist = (m_dc,) + hist[1:]
            lams = jnp.concatenate([lam[i][None], lams[:-1]])
            x_next = predict(k, (x, hist, lams, lam[i + 1], t, grid[i + 1]))
            status = update_status(status, i, (m,), x_next)
            return (x_next, x, hist, dc_hist, lams, k, status), x

        dc_order = self.compensation_order
        hist0 = tuple(jnp.zeros_like(p.x_T) for _ in range(order))  # latest output first
        dc_hist0 = tuple(jnp.zeros_like(p.x_T) for _ in range(dc_order + 1)) if self.compensation is not None else ()
        lams0 = lam[0] + jnp.arange(1.0, 4.0, dtype=lam.dtype)  # finite dummies before the first step
        init = (p.x_T, p.x_T, hist0, dc_hist0, lams0, jnp.int32(1), initial_status(p.x_T))
        (x, _, _, _, _, _, status), xs = jax.lax.scan(step, init, (jnp.arange(n), orders))
        path = jnp.concatenate([xs, x[None]])
        x, status = final_denoise(self, x, data, grid[-1], status, n)
        out = finish(self, x, status, messages("UniPC", n, self.denoise_to_zero),
                     nfe=n + int(self.denoise_to_zero), num_steps=n)
        return out, path
