"""DDIM and the multistep exponential integrators DPM-Solver / DPM-Solver++.

With ``h = lambda_s - lambda_t`` for a step from ``t`` to ``s < t`` the probability-flow
ODE has the exact forms (Lu et al., DPM-Solver, NeurIPS 2022, eq. 3.4; DPM-Solver++,
arXiv:2211.01095, eq. 9)

    x_s = (alpha_s / alpha_t) x_t - alpha_s int_{lambda_t}^{lambda_s} e^{-lambda} eps dlambda
        = (sigma_s / sigma_t) x_t + sigma_s int_{lambda_t}^{lambda_s} e^{lambda} x0 dlambda,

and the samplers approximate ``eps`` (noise prediction) or ``x0`` (data prediction) by
polynomials in ``lambda`` through the previous steps' model outputs. Every sampler here is
an ``AbstractSampler``: ``sampler(model, schedule, x_T, grid, *, key=None) -> Sample`` for
one sample ``x_T`` (vmap it over a batch), one ``lax.scan`` over the grid, usable under
``jit``; NFE = number of steps (``len(grid) - 1``), plus one with ``denoise_to_zero``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import ArrayLike, Float, PRNGKeyArray

from ..internal import check_one_of
from ._common import (
    check_options,
    final_denoise,
    finish,
    gaussian_noise,
    initial_status,
    messages,
    prepare,
    split_keys,
    step_orders,
    update_status,
)
from ._sample import AbstractSampler, Sample
from ._schedule import AbstractSchedule

_SOLVER_TYPES = ("midpoint", "taylor")


class DDIM(AbstractSampler):
    """DDIM (Song, Meng, Ermon, ICLR 2021, eq. 12): ``x_s = alpha_s x0 + sqrt(sigma_s^2 - c^2) eps + c z``
    with ``c = eta sigma_s sqrt(1 - e^{-2h})`` (eq. 16 written with ``h``); ``eta = 0`` is the
    deterministic sampler (= DPM-Solver-1), ``eta = 1`` ancestral DDPM sampling, which draws
    noise and needs ``key``. NFE = steps (+1 with ``denoise_to_zero``).

    Attributes:
        eta: noise level, ``>= 0`` (static).
        parametrization: what the model predicts: ``"eps"``, ``"x0"``, ``"v"``, ``"score"`` or ``"flow"``.
        denoise_to_zero: return the data prediction at the last time (one more NFE).
        throw: raise on NaN/inf (inside jit too); with ``False`` return ``RESULTS.nonfinite_values``.

    Example:
        >>> from jaxsci import diffusion as D
        >>> s = D.VPLinear(); model = D.GaussianEps(s, jnp.zeros(2), 0.5)
        >>> x0 = D.DDIM()(model, s, jnp.ones(2), D.time_grid(s, 10)).x
        >>> x1 = D.DDIM(eta=1.0)(model, s, jnp.ones(2), D.time_grid(s, 10), key=jax.random.key(0)).x
    """

    eta: float = eqx.field(default=0.0, static=True)
    parametrization: str = eqx.field(default="eps", static=True)
    denoise_to_zero: bool = eqx.field(default=False, static=True)
    throw: bool = eqx.field(default=True, static=True)

    def __check_init__(self):
        if isinstance(self.eta, bool) or not isinstance(self.eta, (int, float)) or not (
                math.isfinite(self.eta) and self.eta >= 0):
            raise ValueError(f"DDIM: `eta` must be a finite number >= 0 (0: deterministic, 1: ancestral), "
                             f"got {self.eta!r}.")
        check_options(self)

    def __call__(self, model: Callable, schedule: AbstractSchedule, x_T: Float[ArrayLike, ...],
                 grid: Float[ArrayLike, " n+1"], *, key: PRNGKeyArray | None = None) -> Sample:
        """Sample from ``x_T`` at ``grid[0]``; ``key`` is needed when ``eta > 0``."""
        p = prepare(self, model, schedule, x_T, grid, key, needs_key=self.eta > 0, needs_log_snr=self.eta > 0)
        grid, lam, data = p.grid, p.lam, p.data
        n = grid.shape[0] - 1
        eta = self.eta

        def step(carry, inputs):
            x, status = carry
            i, k = inputs
            x0 = data(x, grid[i])
            x_s = ddim_update(schedule, eta, x, x0, grid[i], grid[i + 1], lam[i + 1] - lam[i], k)
            return (x_s, update_status(status, i, (x0,), x_s)), None

        (x, status), _ = jax.lax.scan(step, (p.x_T, initial_status(p.x_T)), (jnp.arange(n), split_keys(p.key, n)))
        x, status = final_denoise(self, x, data, grid[-1], status, n)
        return finish(self, x, status, messages("DDIM", n, self.denoise_to_zero),
                      nfe=n + int(self.denoise_to_zero), num_steps=n)


def ddim_update(schedule, eta, x, x0, t, s, h, key):
    """One DDIM step from ``t`` to ``s`` given the data prediction ``x0`` (Song et al. 2021,
    eq. 12; ``h = lambda_s - lambda_t`` and ``key`` are used only when ``eta > 0``)."""
    eps = (x - schedule.alpha(t) * x0) / schedule.sigma(t)
    if eta == 0:
        return schedule.alpha(s) * x0 + schedule.sigma(s) * eps
    c = eta * schedule.sigma(s) * jnp.sqrt(-jnp.expm1(-2.0 * h))
    z = gaussian_noise(key, x)
    return schedule.alpha(s) * x0 + jnp.sqrt(schedule.sigma(s) ** 2 - c**2) * eps + c * z


def _data_update(order, x, m, lams, lam_s, t, s, schedule, solver_type):
    """DPM-Solver++ multistep update of ``order`` 1-3 (Lu et al. 2022b, Alg. 2 and App. B).

    ``solver_type="midpoint"`` is the published scheme (2M: ``D = m0 + (m0 - m1) / (2 r)``;
    3M: the published weights); ``"taylor"`` integrates the interpolating polynomial in
    ``lambda`` exactly (``phi``-functions), so order k is exact when ``x0`` is a polynomial of
    degree k - 1 in ``lambda``. (The published 3M weight of ``D2`` is half the exact one, which
    makes its observed order 2; the ``taylor`` variant is third order.)
    """
    h = lam_s - lams[0]
    a_s = schedule.alpha(s)
    phi = jnp.expm1(-h)
    base = schedule.sigma(s) / schedule.sigma(t) * x - a_s * phi * m[0]
    if order == 1:
        return base
    r0 = (lams[0] - lams[1]) / h
    d1_0 = (m[0] - m[1]) / r0
    if order == 2:
        if solver_type == "midpoint":
            return base - 0.5 * a_s * phi * d1_0
        return base + a_s * (phi / h + 1.0) * d1_0
    r1 = (lams[1] - lams[2]) / h
    d1_1 = (m[1] - m[2]) / r1
    d1 = d1_0 + r0 / (r0 + r1) * (d1_0 - d1_1)  # = h x0'(lambda_t) for a quadratic
    d2 = (d1_0 - d1_1) / (r0 + r1)  # = h^2 x0''(lambda_t) / 2 for a quadratic
    weight = 1.0 if solver_type == "midpoint" else 2.0
    return base + a_s * (phi / h + 1.0) * d1 - weight * a_s * ((phi + h) / h**2 - 0.5) * d2


def _noise_update(order, x, m, lams, lam_s, t, s, schedule, solver_type):
    """Multistep DPM-Solver update in noise prediction, orders 1-3 (Lu et al. 2022b, App. B);
    ``solver_type`` as in ``_data_update``."""
    h = lam_s - lams[0]
    sig_s = schedule.sigma(s)
    phi = jnp.expm1(h)
    base = schedule.alpha(s) / schedule.alpha(t) * x - sig_s * phi * m[0]
    if order == 1:
        return base
    r0 = (lams[0] - lams[1]) / h
    d1_0 = (m[0] - m[1]) / r0
    if order == 2:
        if solver_type == "midpoint":
            return base - 0.5 * sig_s * phi * d1_0
        return base - sig_s * (phi / h - 1.0) * d1_0
    r1 = (lams[1] - lams[2]) / h
    d1_1 = (m[1] - m[2]) / r1
    d1 = d1_0 + r0 / (r0 + r1) * (d1_0 - d1_1)
    d2 = (d1_0 - d1_1) / (r0 + r1)
    weight = 1.0 if solver_type == "midpoint" else 2.0
    return base - sig_s * (phi / h - 1.0) * d1 - weight * sig_s * ((phi - h) / h**2 - 0.5) * d2


def _sde_data_update(order, x, m, lams, lam_s, t, s, schedule, z):
    """SDE-DPM-Solver++ (Lu et al. 2022b, Sec. 5 / App. C), orders 1-2: exact in the linear
    part and the noise, ``x0`` interpolated in ``lambda``."""
    h = lam_s - lams[0]
    a_s, sig_s = schedule.alpha(s), schedule.sigma(s)
    one_minus = -jnp.expm1(-2.0 * h)
    base = sig_s / schedule.sigma(t) * jnp.exp(-h) * x + a_s * one_minus * m[0] + sig_s * jnp.sqrt(one_minus) * z
    if order == 1:
        return base
    r0 = (lams[0] - lams[1]) / h
    return base + 0.5 * a_s * one_minus * (m[0] - m[1]) / r0


def multistep_update(schedule, order, k, x, m, hist, lams, lam_t, lam_s, t, s, *, data_prediction,
                     solver_type="midpoint", z=None):
    """Push the model output ``m`` (at ``t``, log-SNR ``lam_t``) onto the history (latest
    first) and take one multistep step of order ``k`` (traced, ``<= order``) to ``s``; with
    noise ``z``, the SDE update. Returns ``(x_s, history, log-SNR history)``."""
    hist = (m,) + hist[:-1]
    lams = jnp.concatenate([lam_t[None], lams[:-1]])
    if z is not None:
        branches = [lambda a, q=q: _sde_data_update(q, *a, schedule, z) for q in (1, 2)]
    else:
        update = _data_update if data_prediction else _noise_update
        branches = [lambda a, q=q: update(q, *a, schedule, solver_type) for q in range(1, order + 1)]
    return jax.lax.switch(k - 1, branches, (x, hist, lams, lam_s, t, s)), hist, lams


def _multistep(sampler, model, schedule, x_T, grid, key, *, order, data_prediction,
               solver_type="midpoint", stochastic=False) -> Sample:
    p = prepare(sampler, model, schedule, x_T, grid, key, needs_key=stochastic)
    grid, lam, data, noise = p.grid, p.lam, p.data, p.noise
    n = grid.shape[0] - 1
    denoise = sampler.denoise_to_zero
    # the final denoising step counts as a (first-order) step of the order schedule
    orders = step_orders(n + int(denoise), order, sampler.lower_order_final)[:n]
    predict = data if data_prediction else noise
    # distinct dummy log-SNRs keep the unused divided differences finite during warm-up
    lam_hist0 = lam[0] - jnp.arange(1.0, 4.0, dtype=lam.dtype)
    hist0 = tuple(jnp.zeros_like(p.x_T) for _ in range(order))  # latest output first

    def step(carry, inputs):
        x, hist, lams, status = carry
        i, k, z_key = inputs
        t = grid[i]
        z = gaussian_noise(z_key, x) if stochastic else None
        x_new, hist, lams = multistep_update(schedule, order, k, x, predict(x, t), hist, lams, lam[i], lam[i + 1],
                                             t, grid[i + 1], data_prediction=data_prediction,
                                             solver_type=solver_type, z=z)
        return (x_new, hist, lams, update_status(status, i, hist[:1], x_new)), None

    init = (p.x_T, hist0, lam_hist0, initial_status(p.x_T))
    (x, _, _, status), _ = jax.lax.scan(step, init, (jnp.arange(n), orders, split_keys(p.key, n)))
    x, status = final_denoise(sampler, x, data, grid[-1], status, n)
    return finish(sampler, x, status, messages(type(sampler).__name__, n, denoise),
                  nfe=n + int(denoise), num_steps=n)




class DPMSolverPP(AbstractSampler):
    """Multistep DPM-Solver++ of ``order`` 1, 2 (2M) or 3 (3M), data prediction
    (Lu et al. 2022b, arXiv:2211.01095, Alg. 2). NFE = steps (+1 with ``denoise_to_zero``).

    Attributes:
        order: 1, 2 or 3.
        solver_type: ``"midpoint"`` (the published scheme) or ``"taylor"`` (integrates the
            interpolating polynomial in ``lambda`` exactly: order 3 is third order, while
            the published 3M weight makes it second order). A string because it selects one of
            a closed set of formulas (a hyperparameter value, not a strategy object).
        lower_order_final: lower the order of the last steps when there are fewer than 15
            (stabilises NFE < 10; DPM-Solver++, Sec. 5).
        parametrization: what the model predicts: ``"eps"``, ``"x0"``, ``"v"``, ``"score"`` or ``"flow"``.
        denoise_to_zero: return the data prediction at the last time (one more NFE).
        throw: raise on NaN/inf (inside jit too); with ``False`` return ``RESULTS.nonfinite_values``.

    Example:
        >>> from jaxsci import diffusion as D
        >>> s = D.VPLinear(); model = D.GaussianEps(s, jnp.zeros(2), 0.5)
        >>> out = D.DPMSolverPP(order=2)(model, s, jnp.ones(2), D.time_grid(s, 10))
        >>> int(out.nfe)
        10
    """

    order: int = eqx.field(default=2, static=True)
    solver_type: str = eqx.field(default="midpoint", static=True)
    lower_order_final: bool = eqx.field(default=True, static=True)
    parametrization: str = eqx.field(default="eps", static=True)
    denoise_to_zero: bool = eqx.field(default=False, static=True)
    throw: bool = eqx.field(default=True, static=True)

    def __check_init__(self):
        check_options(self, order=self.order)
        check_one_of(self.solver_type, _SOLVER_TYPES, "solver_type")

    def __call__(self, model: Callable, schedule: AbstractSchedule, x_T: Float[ArrayLike, ...],
                 grid: Float[ArrayLike, " n+1"], *, key: PRNGKeyArray | None = None) -> Sample:
        """Sample from ``x_T`` at ``grid[0]`` (deterministic: ``key`` is not used)."""
        return _multistep(self, model, schedule, x_T, grid, key, order=self.order, data_prediction=True,
                          solver_type=self.solver_type)


class DPMSolver(AbstractSampler):
    """Multistep DPM-Solver of ``order`` 1-3 in noise prediction (Lu et al., NeurIPS 2022,
    multistep variant of DPM-Solver-2/3 as in Lu et al. 2022b, App. B). NFE = steps
    (+1 with ``denoise_to_zero``). The singlestep DPM-Solver is :class:`DPMSolverSinglestep`.

    Attributes:
        order: 1, 2 or 3.
        solver_type: ``"midpoint"`` or ``"taylor"``, as in :class:`DPMSolverPP`.
        lower_order_final: lower the order of the last steps when there are fewer than 15
            (stabilises NFE < 10; DPM-Solver++, Sec. 5).
        parametrization: what the model predicts: ``"eps"``, ``"x0"``, ``"v"``, ``"score"`` or ``"flow"``.
        denoise_to_zero: return the data prediction at the last time (one more NFE).
        throw: raise on NaN/inf (inside jit too); with ``False`` return ``RESULTS.nonfinite_values``.

    Example:
        >>> from jaxsci import diffusion as D
        >>> s = D.VPLinear(); model = D.GaussianEps(s, jnp.zeros(2), 0.5)
        >>> x0 = D.DPMSolver(order=3, solver_type="taylor")(model, s, jnp.ones(2), D.time_grid(s, 10)).x
    """

    order: int = eqx.field(default=2, static=True)
    solver_type: str = eqx.field(default="midpoint", static=True)
    lower_order_final: bool = eqx.field(default=True, static=True)
    parametrization: str = eqx.field(default="eps", static=True)
    denoise_to_zero: bool = eqx.field(default=False, static=True)
    throw: bool = eqx.field(default=True, static=True)

    def __check_init__(self):
        check_options(self, order=self.order)
        check_one_of(self.solver_type, _SOLVER_TYPES, "solver_type")

    def __call__(self, model: Callable, schedule: AbstractSchedule, x_T: Float[ArrayLike, ...],
                 grid: Float[ArrayLike, " n+1"], *, key: PRNGKeyArray | None = None) -> Sample:
        """Sample from ``x_T`` at ``grid[0]`` (deterministic: ``key`` is not used)."""
        return _multistep(self, model, schedule, x_T, grid, key, order=self.order, data_prediction=False,
                          solver_type=self.solver_type)


class SDEDPMSolverPP2M(AbstractSampler):
    """SDE-DPM-Solver++(2M) for the reverse diffusion SDE (Lu et al. 2022b, Sec. 5 / App. C):
    exact in the linear part and the noise, ``x0`` interpolated linearly in ``lambda``.
    Draws noise: needs ``key``. NFE = steps (+1 with ``denoise_to_zero``).

    Attributes:
        lower_order_final: lower the order of the last steps when there are fewer than 15
            (stabilises NFE < 10; DPM-Solver++, Sec. 5).
        parametrization: what the model predicts: ``"eps"``, ``"x0"``, ``"v"``, ``"score"`` or ``"flow"``.
        denoise_to_zero: return the data prediction at the last time (one more NFE).
        throw: raise on NaN/inf (inside jit too); with ``False`` return ``RESULTS.nonfinite_values``.

    Example:
        >>> from jaxsci import diffusion as D
        >>> s = D.VPLinear(); model = D.GaussianEps(s, jnp.zeros(2), 0.5)
        >>> x0 = D.SDEDPMSolverPP2M()(model, s, jnp.ones(2), D.time_grid(s, 10), key=jax.random.key(0)).x
    """

    lower_order_final: bool = eqx.field(default=True, static=True)
    parametrization: str = eqx.field(default="eps", static=True)
    denoise_to_zero: bool = eqx.field(default=False, static=True)
    throw: bool = eqx.field(default=True, static=True)

    def __check_init__(self):
        check_options(self)

    def __call__(self, model: Callable, schedule: AbstractSchedule, x_T: Float[ArrayLike, ...],
                 grid: Float[ArrayLike, " n+1"], *, key: PRNGKeyArray | None = None) -> Sample:
        """Sample from ``x_T`` at ``grid[0]``; ``key`` is required."""
        return _multistep(self, model, schedule, x_T, grid, key, order=2, data_prediction=True, stochastic=True)
