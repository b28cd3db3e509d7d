"""DDIM and the multistep exponential integrators DPM-Solver / DPM-Solver++.

With ``h = lambda_s - lambda_t`` for a step from ``t`` to ``s < t`` the probability-flow
ODE has the exact forms (Lu et al., DPM-Solver, NeurIPS 2022, eq. 3.4; DPM-Solver++,
arXiv:2211.01095, eq. 9)

    x_s = (alpha_s / alpha_t) x_t - alpha_s int_{lambda_t}^{lambda_s} e^{-lambda} eps dlambda
        = (sigma_s / sigma_t) x_t + sigma_s int_{lambda_t}^{lambda_s} e^{lambda} x0 dlambda,

and the samplers approximate ``eps`` (noise prediction) or ``x0`` (data prediction) by
polynomials in ``lambda`` through the previous steps' model outputs. Every sampler here is
a pure function ``(model, schedule, x_T, grid, ...) -> x`` for one sample ``x_T`` (vmap it
over a batch), one ``lax.scan`` over the grid, usable under ``jit``; NFE = number of steps
(``len(grid) - 1``), plus one with ``denoise_to_zero``.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from ..internal import check_one_of
from ._common import (
    check_order,
    check_stochastic_key,
    final_denoise,
    gaussian_noise,
    prepare,
    split_keys,
    step_orders,
)


def ddim(model: Callable, schedule, x_T: Float[Array, ...], grid, key=None, *, eta: float = 0.0,
         parametrization: str = "eps", denoise_to_zero: bool = False) -> Float[Array, ...]:
    """DDIM (Song, Meng, Ermon, ICLR 2021, eq. 12): ``x_s = alpha_s x0 + sqrt(sigma_s^2 - c^2) eps + c z``
    with ``c = eta sigma_s sqrt(1 - e^{-2h})`` (eq. 16 written with ``h``); ``eta = 0`` is the
    deterministic sampler (= DPM-Solver-1), ``eta = 1`` ancestral DDPM sampling.

    Example:
        >>> s = VPLinear(); model = GaussianMixture.random(key, 4, 2).noise_model(s)
        >>> x0 = ddim(model, s, x_T, time_grid(s, 10))
    """
    if eta < 0:
        raise ValueError(f"`eta` must be >= 0, got {eta}.")
    check_stochastic_key(key, eta > 0, "ddim")
    grid, lam, data, noise = prepare(model, schedule, x_T, grid, parametrization)
    n = grid.shape[0] - 1

    def step(x, inputs):
        i, k = inputs
        t, s = grid[i], grid[i + 1]
        x0 = data(x, t)
        eps = (x - schedule.alpha(t) * x0) / schedule.sigma(t)
        if eta == 0:
            return schedule.alpha(s) * x0 + schedule.sigma(s) * eps, None
        h = lam[i + 1] - lam[i]
        c = eta * schedule.sigma(s) * jnp.sqrt(-jnp.expm1(-2.0 * h))
        z = gaussian_noise(k, x)
        x_s = schedule.alpha(s) * x0 + jnp.sqrt(schedule.sigma(s) ** 2 - c**2) * eps + c * z
        return x_s, None

    x, _ = jax.lax.scan(step, x_T, (jnp.arange(n), split_keys(key, n)))
    return final_denoise(x, data, grid[-1], denoise_to_zero)


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


def _multistep(model, schedule, x_T, grid, *, order, data_prediction, parametrization,
               lower_order_final, denoise_to_zero, solver_type="midpoint", key=None, stochastic=False):
    check_one_of(solver_type, ("midpoint", "taylor"), "solver_type")
    grid, lam, data, noise = prepare(model, schedule, x_T, grid, parametrization)
    n = grid.shape[0] - 1
    # the final denoising step counts as a (first-order) step of the order schedule
    orders = step_orders(n + int(denoise_to_zero), order, lower_order_final)[:n]
    predict = data if data_prediction else noise
    # distinct dummy log-SNRs keep the unused divided differences finite during warm-up
    lam_hist0 = lam[0] - jnp.arange(1.0, 4.0, dtype=lam.dtype)
    hist0 = tuple(jnp.zeros_like(x_T) for _ in range(order))  # latest output first

    def step(carry, inputs):
        x, hist, lams = carry
        i, k, z_key = inputs
        t, s = grid[i], grid[i + 1]
        hist = (predict(x, t),) + hist[:-1]
        lams = jnp.concatenate([lam[i][None], lams[:-1]])
        if stochastic:
            z = gaussian_noise(z_key, x)
            branches = [lambda a, q=q: _sde_data_update(q, *a, schedule, z) for q in (1, 2)]
        else:
            update = _data_update if data_prediction else _noise_update
            branches = [lambda a, q=q: update(q, *a, schedule, solver_type) for q in range(1, order + 1)]
        x_new = jax.lax.switch(k - 1, branches, (x, hist, lams, lam[i + 1], t, s))
        return (x_new, hist, lams), None

    (x, _, _), _ = jax.lax.scan(step, (x_T, hist0, lam_hist0), (jnp.arange(n), orders, split_keys(key, n)))
    return final_denoise(x, data, grid[-1], denoise_to_zero)


def dpm_solver_pp(model: Callable, schedule, x_T, grid, *, order: int = 2, solver_type: str = "midpoint",
                  parametrization: str = "eps",
                  lower_order_final: bool = True, denoise_to_zero: bool = False):
    """Multistep DPM-Solver++ of ``order`` 1, 2 (2M) or 3 (3M), data prediction
    (Lu et al. 2022b, Alg. 2). NFE = steps. ``lower_order_final`` lowers the order of the
    last steps when there are fewer than 15 (stabilises NFE < 10)."""
    check_order(order, (1, 2, 3), "dpm_solver_pp")
    return _multistep(model, schedule, x_T, grid, order=order, data_prediction=True,
                      parametrization=parametrization, lower_order_final=lower_order_final,
                      denoise_to_zero=denoise_to_zero, solver_type=solver_type)


def dpm_solver_pp_2m(model: Callable, schedule, x_T, grid, **kwargs):
    """DPM-Solver++(2M): ``dpm_solver_pp(..., order=2)``."""
    return dpm_solver_pp(model, schedule, x_T, grid, order=2, **kwargs)


def dpm_solver_pp_3m(model: Callable, schedule, x_T, grid, **kwargs):
    """DPM-Solver++(3M): ``dpm_solver_pp(..., order=3)``."""
    return dpm_solver_pp(model, schedule, x_T, grid, order=3, **kwargs)


def dpm_solver_multistep(model: Callable, schedule, x_T, grid, *, order: int = 2, solver_type: str = "midpoint",
                  parametrization: str = "eps",
                         lower_order_final: bool = True, denoise_to_zero: bool = False):
    """Multistep DPM-Solver of ``order`` 1-3 in noise prediction (Lu et al. 2022, multistep
    variant of DPM-Solver-2/3 as in Lu et al. 2022b, App. B). NFE = steps."""
    check_order(order, (1, 2, 3), "dpm_solver_multistep")
    return _multistep(model, schedule, x_T, grid, order=order, data_prediction=False,
                      parametrization=parametrization, lower_order_final=lower_order_final,
                      denoise_to_zero=denoise_to_zero, solver_type=solver_type)


def sde_dpm_solver_pp_2m(model: Callable, schedule, x_T, grid, key, *, parametrization: str = "eps",
                         lower_order_final: bool = True, denoise_to_zero: bool = False):
    """SDE-DPM-Solver++(2M) for the reverse diffusion SDE (Lu et al. 2022b, Sec. 5).
    Needs ``key``; NFE = steps."""
    check_stochastic_key(key, True, "sde_dpm_solver_pp_2m")
    return _multistep(model, schedule, x_T, grid, order=2, data_prediction=True,
                      parametrization=parametrization, lower_order_final=lower_order_final,
                      denoise_to_zero=denoise_to_zero, key=key, stochastic=True)
