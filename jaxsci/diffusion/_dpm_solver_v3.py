"""DPM-Solver-v3: a model-specific parametrization from empirical model statistics (Zheng, Lu,
Chen, Zhu, NeurIPS 2023, arXiv:2310.13268).

In the log-SNR ``lambda`` and ``y = x / alpha``, the probability-flow ODE is ``dy/dlambda =
-e^{-lambda} eps(x, lambda)``. For any coefficients ``l_lambda``, ``s_lambda``, ``b_lambda``
(per dimension, like one sample) write (the paper's Sec. 3.1)

    f(x, lambda) = (sigma eps(x, lambda) - l x) / alpha,                      (the new nonlinear part)
    L(lambda) = int l,   S(lambda) = int s,   B_s(lambda) = int_{lambda_s}^{lambda} e^{-(S(r) - S(lambda_s))} b(r) dr,
    g(x, lambda) = e^{-(S(lambda) - S(lambda_s))} f(x, lambda) - B_s(lambda);

then, exactly, from ``lambda_s`` to ``lambda_t`` (the paper's exact solution in terms of ``g``)

    x_t = alpha_t e^{-(L_t - L_s)} [ x_s / alpha_s
          - int_{lambda_s}^{lambda_t} e^{L(lambda) - L_s + S(lambda) - S_s} (g(x_lambda, lambda) + B_s(lambda)) dlambda ].

The solver approximates ``g`` along the trajectory by a polynomial in ``lambda`` through the
previous steps' values (Sec. 3.2, multistep with the Taylor expansion of ``g`` around
``lambda_s``), so a step is exact when ``g`` is such a polynomial. The empirical model
statistics (EMS) choose ``l, s, b`` to make ``g`` as flat as possible (Sec. 3.1):

* ``l_lambda`` minimizes ``E ||grad_x N(x_lambda, lambda)||_F^2`` for the nonlinear part
  ``N = sigma eps - l x``: per dimension, ``l = E[diag(sigma_lambda grad_x eps(x_lambda, lambda))]``,
  estimated with Rademacher probes ``v`` as ``E[v * (sigma J v)]`` (Hutchinson's estimator of a
  Jacobian's diagonal; one JVP per data point);
* ``s_lambda, b_lambda`` minimize ``E ||f^(1) - s f - b||^2`` (the first-order discretization
  error of the transformed model), with ``f^(1) = df(x_lambda, lambda)/dlambda`` the total
  derivative along the ODE (a JVP of the model in the direction ``(dx/dlambda, dt/dlambda)``):
  per dimension ``s = Cov(f^(1), f) / Var(f)`` and ``b = E[f^(1)] - s E[f]``.

The expectations are over ``x_lambda = alpha x0 + sigma eps`` for data points ``x0``, on a fine
``lambda`` grid; ``l`` is computed first and ``dl/dlambda`` taken by finite differences, then
``s`` and ``b`` (the two passes of the authors' estimation procedure).

``l = 1, s = 0, b = 0`` gives ``f = -x0`` and the sampler is DPM-Solver++ (data prediction,
the ``"taylor"`` multistep integration of the interpolating polynomial); ``l = 0, s = -1,
b = 0`` gives ``g = e^{-lambda_s} eps`` and multistep DPM-Solver (noise prediction).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray

from ..internal import check_key, check_one_of, check_positive_int
from ._common import (
    check_options,
    finish,
    initial_status,
    messages,
    prepare,
    update_status,
)
from ._grid import _check_schedule
from ._inputs import float_input
from ._model import PARAMETRIZATIONS, to_noise
from ._sample import AbstractSampler, Sample
from ._schedule import AbstractSchedule

STATISTICS_FORMAT = "jaxsci.diffusion.ems/1"
# Gauss-Legendre nodes for the exponentially weighted integrals of one step
_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(32)


class ModelStatistics(eqx.Module):
    """Empirical model statistics (EMS) of DPM-Solver-v3 (Zheng et al., NeurIPS 2023, Sec. 3.1):
    the coefficients ``l, s, b`` of its parametrization on a grid of log-SNRs.

    Between the grid's nodes ``l, s, b`` are linear in ``lambda``; the integrals the sampler
    needs, ``L = int l``, ``S = int s`` and ``B = int e^{-S} b`` from ``lambdas[0]``, are
    cumulative trapezoid sums over the nodes (exact for the linear ``l`` and ``s``) extended
    by the trapezoid of the partial cell. Just outside the grid (0.1 % of its span) the end
    cells are extrapolated linearly, further out the values are constant (the sampler refuses
    a grid whose log-SNRs leave the statistics' range by more than rounding).

    Attributes:
        lambdas: the log-SNR grid, strictly **increasing** (from high noise to low noise, the
            direction of sampling).
        l, s, b: shape ``(num_lambdas, *shape)``, one value per dimension of a sample of
            ``shape`` at every node.

    Example:
        >>> from jaxsci import diffusion as D
        >>> ems = D.ModelStatistics.constant(jnp.linspace(-6.0, 6.0, 13), (2,))  # DPM-Solver++
        >>> l, s, b = ems.interpolate(0.5)
        >>> l
        Array([1., 1.], dtype=float32)
    """

    lambdas: Float[Array, " N"]
    l: Float[Array, " N *shape"]  # noqa: E741 (the paper's name)
    s: Float[Array, " N *shape"]
    b: Float[Array, " N *shape"]

    def __init__(self, lambdas: Float[ArrayLike, " N"], l: Float[ArrayLike, " N *shape"],  # noqa: E741
                 s: Float[ArrayLike, " N *shape"], b: Float[ArrayLike, " N *shape"]):
        lambdas = float_input(lambdas, "lambdas")
        if lambdas.ndim != 1 or lambdas.shape[0] < 2:
            raise ValueError(f"ModelStatistics: `lambdas` must be a 1-D grid of at least 2 log-SNRs, got shape "
                             f"{lambdas.shape}.")
        arrays = {}
        for name, value in (("l", l), ("s", s), ("b", b)):
            value = float_input(value, name)
            if value.ndim < 1 or value.shape[0] != lambdas.shape[0]:
                raise ValueError(f"ModelStatistics: `{name}` must have shape (num_lambdas, *sample_shape) with "
                                 f"num_lambdas = {lambdas.shape[0]} (the length of `lambdas`), got {value.shape}.")
            arrays[name] = value
        if not arrays["l"].shape == arrays["s"].shape == arrays["b"].shape:
            raise ValueError(f"ModelStatistics: `l`, `s` and `b` must have one shape, got "
                             f"{arrays['l'].shape}, {arrays['s'].shape} and {arrays['b'].shape}.")
        if not isinstance(lambdas, jax.core.Tracer):
            lam = np.asarray(lambdas, np.float64)
            if not np.all(np.isfinite(lam)) or not np.all(np.diff(lam) > 0):
                raise ValueError("ModelStatistics: `lambdas` must be finite and strictly increasing (from high "
                                 f"noise to low noise), got {lam}.")
        for name, value in arrays.items():
            if not isinstance(value, jax.core.Tracer) and not bool(jnp.all(jnp.isfinite(value))):
                raise ValueError(f"ModelStatistics: `{name}` holds NaN/inf: every statistic must be finite.")
        self.lambdas = lambdas
        self.l, self.s, self.b = arrays["l"], arrays["s"], arrays["b"]

    @classmethod
    def constant(cls, lambdas: Float[ArrayLike, " N"], shape: tuple[int, ...], *, l: float = 1.0,  # noqa: E741
                 s: float = 0.0, b: float = 0.0) -> ModelStatistics:
        """Statistics constant in ``lambda`` and over dimensions: the defaults ``l = 1, s = b = 0``
        make :class:`DPMSolverV3` DPM-Solver++ (data prediction); ``l = 0, s = -1, b = 0``
        multistep DPM-Solver (noise prediction)."""
        lambdas = float_input(lambdas, "lambdas")
        full = lambda v: jnp.full((lambdas.shape[0], *shape), v, lambdas.dtype)
        return cls(lambdas, full(l), full(s), full(b))

    @property
    def num_lambdas(self) -> int:
        return int(self.lambdas.shape[0])

    @property
    def shape(self) -> tuple[int, ...]:
        """The shape of one sample."""
        return tuple(self.l.shape[1:])

    def interpolate(self, lam: ArrayLike) -> tuple[Array, Array, Array]:
        """``(l, s, b)`` at the log-SNR ``lam`` (a scalar), each of the shape of one sample."""
        point = _at(_tables(self, self.l.dtype), jnp.asarray(lam, self.l.dtype))
        return point.l, point.s, point.b

    def integrals(self, lam: ArrayLike) -> tuple[Array, Array, Array]:
        """``(L, S, B)`` at the log-SNR ``lam``: ``int l``, ``int s`` and ``int e^{-S} b`` from
        ``lambdas[0]`` to ``lam`` (the integrals the sampler uses)."""
        point = _at(_tables(self, self.l.dtype), jnp.asarray(lam, self.l.dtype))
        return point.L, point.S, point.B


# --- the fine-grid tables and their interpolation -----------------------------------------


class _Tables(NamedTuple):
    lam: Array
    l: Array  # noqa: E741
    s: Array
    b: Array
    L: Array  # cumulative integrals at the nodes, from lam[0]
    S: Array
    B: Array
    w: Array  # e^{-S} b at the nodes


class _Point(NamedTuple):
    l: Array  # noqa: E741
    s: Array
    b: Array
    L: Array
    S: Array
    B: Array


def _cumulative_trapezoid(values, lam):
    dx = jnp.diff(lam).reshape((-1,) + (1,) * (values.ndim - 1))
    steps = 0.5 * dx * (values[1:] + values[:-1])
    return jnp.concatenate([jnp.zeros_like(values[:1]), jnp.cumsum(steps, axis=0)])


def _tables(stats: ModelStatistics, dtype) -> _Tables:
    lam = stats.lambdas.astype(dtype)
    ell, s, b = (a.astype(dtype) for a in (stats.l, stats.s, stats.b))
    L, S = _cumulative_trapezoid(ell, lam), _cumulative_trapezoid(s, lam)
    w = jnp.exp(-S) * b
    return _Tables(lam, ell, s, b, L, S, _cumulative_trapezoid(w, lam), w)


def _at(tables: _Tables, lam) -> _Point:
    """The statistics and their integrals at one log-SNR: linear in the cells, extrapolated
    linearly up to 0.1 % of the grid's span beyond its ends, constant further out."""
    grid = tables.lam
    margin = 1e-3 * (grid[-1] - grid[0])
    lam = jnp.clip(lam, grid[0] - margin, grid[-1] + margin)
    j = jnp.clip(jnp.searchsorted(grid, lam, side="right", method="compare_all") - 1, 0, grid.shape[0] - 2)
    u = lam - grid[j]
    frac = u / (grid[j + 1] - grid[j])
    linear = lambda a: a[j] + frac * (a[j + 1] - a[j])
    ell, s, b = linear(tables.l), linear(tables.s), linear(tables.b)
    L = tables.L[j] + 0.5 * u * (tables.l[j] + ell)  # exact for the linear l
    S = tables.S[j] + 0.5 * u * (tables.s[j] + s)
    B = tables.B[j] + 0.5 * u * (tables.w[j] + jnp.exp(-S) * b)
    return _Point(ell, s, b, L, S, B)


def _column(v, ndim):
    """A 1-D array as a column against arrays of rank ``1 + ndim``."""
    return v.reshape(v.shape + (1,) * ndim)


def _step_coefficients(tables, size, num_points, pseudo, alpha_base, alpha_to, lams, lam_to):
    """One step of DPM-Solver-v3 from ``lams[0]`` to ``lam_to`` as ``x_to = A x_base - sum_j W_j
    f_j + K``, with ``f_j`` the values of ``f`` at ``lams[j]``, ``j < num_points`` (traced,
    ``<= size``; the other entries of ``lams`` must be distinct dummies and get no weight).

    ``g`` is approximated by the polynomial through the points, in Newton form about the base
    ``lams[0]`` (so its Taylor coefficients are those of the paper's local expansion, Sec. 3.2);
    with ``pseudo`` the Newton products ``(u - d_1) ... (u - d_{k-1})`` become ``u^k``: the
    ``k``-th derivative is estimated by ``k!`` times the ``k``-th divided difference (the
    paper's pseudo-order solver, Sec. 3.3). The step's integrals are a 32-point Gauss-Legendre
    quadrature in ``lambda`` of the interpolated statistics. ``A``, ``W`` and ``K`` depend on
    the statistics and the log-SNRs only, not on the sample.
    """
    lam_base = lams[0]
    nodes = jnp.asarray(_GL_NODES, lam_base.dtype)
    weights = jnp.asarray(_GL_WEIGHTS, lam_base.dtype)
    h = lam_to - lam_base
    lam_q = lam_base + 0.5 * h * (nodes + 1.0)
    # the statistics at the points (the first is the base), the quadrature nodes and the target
    every = jax.vmap(lambda z: _at(tables, z))(jnp.concatenate([lams, lam_q, lam_to[None]]))
    p = _Point(*(a[:size] for a in every))
    q = _Point(*(a[size:-1] for a in every))
    base, to = _Point(*(a[0] for a in every)), _Point(*(a[-1] for a in every))
    ndim = base.L.ndim
    # e^{L(lambda) - L_t + S(lambda) - S_s} times the quadrature weights
    kernel = jnp.exp(q.L - to.L[None] + q.S - base.S[None]) * _column(0.5 * h * weights, ndim)
    e_S = jnp.exp(base.S)
    forcing = jnp.sum(kernel * (e_S[None] * (q.B - base.B[None])), axis=0)
    # g_j = E_j f_j - G_j relative to the base: E_j = e^{S_s - S_j}, G_j = B_s(lambda_j)
    scale = jnp.exp(base.S[None] - p.S)
    shift = e_S[None] * (p.B - base.B[None])
    # Newton divided differences g[lambda_0 .. lambda_k] = sum_j D[k, j] g_j, for k < num_points
    eye = jnp.eye(size, dtype=lam_base.dtype)
    rows, level = [eye[0]], [eye[j] for j in range(size)]
    for k in range(1, size):
        level = [(level[m + 1] - level[m]) / (lams[m + k] - lams[m]) for m in range(size - k)]
        rows.append(jnp.where(k < num_points, level[0], 0.0))
    # integrals of the Newton basis against the kernel
    u = lam_q - lam_base
    basis, moments = jnp.ones_like(u), []
    for k in range(size):
        if k > 0:
            basis = basis * jnp.where(pseudo, u, u - (lams[k - 1] - lam_base))
        moments.append(jnp.tensordot(basis, kernel, axes=1))
    per_point = jnp.tensordot(jnp.stack(rows).T, jnp.stack(moments), axes=1)  # sum_k D[k, j] N_k
    A = alpha_to * jnp.exp(base.L - to.L) / alpha_base
    W = alpha_to * per_point * scale
    K = alpha_to * (jnp.sum(per_point * shift, axis=0) - forcing)
    return A, W, K


def _plan(n, order, lower_order_final, use_corrector, extra):
    """The steps' tasks, static: ``(step, base, target, points, is_corrector)`` with grid indices
    for every predictor and corrector (the corrector of step ``i`` re-integrates from ``i - 1``
    to ``i`` with the points ``i - 1, i, i - 2, ...``)."""
    # warm-up min(order, i + 1); with lower_order_final also min(., n - i) (as step_orders, always)
    k_p = [min(order, i + 1, n - i) if lower_order_final else min(order, i + 1) for i in range(n)]
    tasks = [(i, i, i + 1, tuple(i - j for j in range(k_p[i])), False) for i in range(n)]
    if use_corrector:
        for i in range(1, n):
            k_c = k_p[i - 1] + extra
            if k_c > 1:
                tasks.append((i, i - 1, i, (i - 1, i) + tuple(i - j for j in range(2, k_c)), True))
    return tasks


def _assemble(tables, tasks, pseudo, alpha, lam, n, size):
    """Per step, ``A (n, *shape)``, ``W (n, size, *shape)`` and ``K (n, *shape)`` of the
    predictors and of the correctors (zeros where a step has none), by one ``lax.map`` over
    the tasks. ``pseudo``: the predictors' and the correctors' pseudo-order flags."""
    num = np.array([len(task[3]) for task in tasks])
    points = np.array([task[3] + (task[1],) * (size - len(task[3])) for task in tasks])
    padded = np.arange(size)[None, :] >= num[:, None]
    is_corr = np.array([task[4] for task in tasks])
    base, target = np.array([task[1] for task in tasks]), np.array([task[2] for task in tasks])
    # distinct dummies below the base for the unused points
    lams = jnp.where(padded, lam[base][:, None] - jnp.arange(1.0, size + 1.0, dtype=lam.dtype)[None, :], lam[points])

    def one(args):
        k, flag, a_base, a_to, lam_pts, lam_to = args
        return _step_coefficients(tables, size, k, flag, a_base, a_to, lam_pts, lam_to)

    flags = jnp.asarray(np.where(is_corr, pseudo[1], pseudo[0]))
    A, W, K = jax.lax.map(one, (jnp.asarray(num), flags, alpha[base], alpha[target], lams, lam[target]))
    out = []
    for which in (False, True):
        rows = np.flatnonzero(is_corr == which)
        steps = np.array([tasks[r][0] for r in rows], int)
        full = lambda v, rows=rows, steps=steps: jnp.zeros((n,) + v.shape[1:], v.dtype).at[steps].set(v[rows])
        out.append((full(A), full(W), full(K)))
    return out


def _check_range(name, tables, lam, x_T):
    """The grid's log-SNRs must lie inside the statistics' grid."""
    lo, hi = tables.lam[0], tables.lam[-1]
    why = (f"{name}: the sampling grid leaves the log-SNR range of the model statistics; compute the statistics "
           "over the sampling range (model_statistics(..., t_start=grid[0], t_end=grid[-1])).")
    if isinstance(lam, jax.core.Tracer) or isinstance(lo, jax.core.Tracer):
        tol = 1e-5 * (1.0 + jnp.abs(hi - lo))
        return eqx.error_if(x_T, (jnp.min(lam) < lo - tol) | (jnp.max(lam) > hi + tol), why)
    lam_np, lo, hi = np.asarray(lam, np.float64), float(lo), float(hi)
    tol = 1e-5 * (1.0 + abs(hi - lo))
    if lam_np.min() < lo - tol or lam_np.max() > hi + tol:
        raise ValueError(f"{why} The grid spans lambda in [{lam_np.min():.6g}, {lam_np.max():.6g}], the statistics "
                         f"[{lo:.6g}, {hi:.6g}].")
    return x_T


class DPMSolverV3(AbstractSampler):
    """DPM-Solver-v3 (Zheng, Lu, Chen, Zhu, NeurIPS 2023, arXiv:2310.13268): the multistep
    predictor in the parametrization of the empirical model statistics (module docstring;
    the paper's Sec. 3.1-3.2) and its corrector (Sec. 3.3). One model evaluation per step:
    NFE = steps.

    Step ``i`` evaluates the model at ``x_i``; with ``use_corrector`` it first corrects ``x_i``
    by re-integrating the previous step with the new value of ``f`` at ``lambda_i`` among its
    points (the values of ``f`` are kept, the model is not evaluated again), then predicts
    ``x_{i+1}`` from the corrected ``x_i``. The predictor of order ``k`` uses the last ``k``
    values of ``f``; the corrector of a step of order ``k`` uses ``k`` values (the newest
    replacing the oldest), or ``k + 1`` with ``corrector_pseudo`` (pseudo-order, one order
    higher), and is skipped after first-order steps (as the authors' code). The last
    sample is not corrected (that would cost one more evaluation).

    Pseudo-order (Sec. 3.3): the ``k``-th derivative of ``g`` is estimated by ``k!`` times the
    ``k``-th divided difference instead of the interpolating polynomial's derivative, which
    lowers the formal order but is more stable in few, large steps. ``predictor_pseudo=None``
    follows the authors' CIFAR-10 settings: pseudo-order predictor for 5 steps or fewer.

    Attributes:
        statistics: the :class:`ModelStatistics` (from :func:`model_statistics`), shaped like
            one sample; their log-SNR grid must cover the sampling grid.
        order: predictor order 1, 2 or 3 (default 3, the paper's choice for few steps).
        use_corrector: correct each sample with the next evaluation (default True).
        predictor_pseudo: ``True``/``False``, or ``None`` (default): pseudo-order predictor
            when the grid has at most 5 steps.
        corrector_pseudo: pseudo-order corrector of one order more than its step (default False).
        lower_order_final: lower the order of the last steps (always, as the authors' code:
            the last step is first order, the one before at most second).
        parametrization: what the model predicts: ``"eps"``, ``"x0"``, ``"v"``, ``"score"`` or ``"flow"``.
        throw: raise on NaN/inf (inside jit too); with ``False`` return ``RESULTS.nonfinite_values``.

    Example:
        >>> from jaxsci import diffusion as D
        >>> s = D.VPLinear(); model = D.GaussianEps(s, jnp.zeros(2), 0.5)
        >>> data = 0.5 * jax.random.normal(jax.random.key(0), (64, 2))
        >>> ems = D.model_statistics(model, s, data, num_lambdas=50, key=jax.random.key(1))
        >>> out = D.DPMSolverV3(ems)(model, s, jnp.ones(2), D.time_grid(s, 6))
        >>> int(out.nfe)
        6
    """

    statistics: ModelStatistics
    order: int = eqx.field(default=3, static=True)
    use_corrector: bool = eqx.field(default=True, static=True)
    predictor_pseudo: bool | None = eqx.field(default=None, static=True)
    corrector_pseudo: bool = eqx.field(default=False, static=True)
    lower_order_final: bool = eqx.field(default=True, static=True)
    parametrization: str = eqx.field(default="eps", static=True)
    throw: bool = eqx.field(default=True, static=True)

    def __check_init__(self):
        if not isinstance(self.statistics, ModelStatistics):
            raise TypeError(f"DPMSolverV3: `statistics` must be a ModelStatistics (from model_statistics(...) or "
                            f"load_statistics(...)), got {type(self.statistics).__name__}.")
        check_options(self, order=self.order)
        for field in ("use_corrector", "corrector_pseudo"):
            if not isinstance(getattr(self, field), bool):
                raise TypeError(f"DPMSolverV3: `{field}` must be True or False, got {getattr(self, field)!r}.")
        if self.predictor_pseudo is not None and not isinstance(self.predictor_pseudo, bool):
            raise TypeError(f"DPMSolverV3: `predictor_pseudo` must be True, False or None, got "
                            f"{self.predictor_pseudo!r}.")

    def __call__(self, model: Callable, schedule: AbstractSchedule, x_T: Float[ArrayLike, ...],
                 grid: Float[ArrayLike, " n+1"], *, key: PRNGKeyArray | None = None) -> Sample:
        """Sample from ``x_T`` at ``grid[0]`` (deterministic: ``key`` is not used)."""
        p = prepare(self, model, schedule, x_T, grid, key)
        grid, lam, noise, x_T = p.grid, p.lam, p.noise, p.x_T
        if self.statistics.shape != x_T.shape:
            raise ValueError(f"DPMSolverV3: the statistics are for samples of shape {self.statistics.shape}, but x_T "
                             f"has shape {x_T.shape}: compute them from data shaped like one sample (vmap the "
                             "sampler over a batch).")
        tables = _tables(self.statistics, x_T.dtype)
        x_T = _check_range("DPMSolverV3", tables, lam, x_T)
        n = grid.shape[0] - 1
        extra = int(self.corrector_pseudo)
        size = self.order + extra  # values of f a step uses at most
        pseudo_p = n <= 5 if self.predictor_pseudo is None else self.predictor_pseudo
        tasks = _plan(n, self.order, self.lower_order_final, self.use_corrector, extra)
        alpha, sigma = schedule.alpha(grid).astype(x_T.dtype), schedule.sigma(grid).astype(x_T.dtype)
        # every step's coefficients at once: they do not depend on the sample (nor, under vmap, on the batch)
        pred, corr = _assemble(tables, tasks, (pseudo_p, self.corrector_pseudo), alpha, lam, n, size)
        correctors = [task[0] for task in tasks if task[4]]
        corrected = jnp.zeros((n,), bool).at[np.array(correctors, int)].set(True)
        l_grid = jax.vmap(lambda z: _at(tables, z).l)(lam[:n])

        def step(carry, inputs):
            # carry: x_i (predicted), x_{i-1} (corrected), f at the earlier grid times (latest first)
            x, x_prev, hist, status = carry
            i, a_p, w_p, k_p, a_c, w_c, k_c, use_c, l_t = inputs
            eps = noise(x, grid[i])
            f = (sigma[i] * eps - l_t * x) / alpha[i]
            if correctors:
                points = jnp.concatenate([hist[:1], f[None], hist[1:-1]])
                x = jnp.where(use_c, a_c * x_prev - jnp.sum(w_c * points, axis=0) + k_c, x)
            hist = jnp.concatenate([f[None], hist[:-1]])
            x_next = a_p * x - jnp.sum(w_p * hist, axis=0) + k_p
            return (x_next, x, hist, update_status(status, i, (eps,), x_next)), None

        hist0 = jnp.zeros((size,) + x_T.shape, x_T.dtype)
        init = (x_T, x_T, hist0, initial_status(x_T))
        (x, _, _, status), _ = jax.lax.scan(step, init, (jnp.arange(n), *pred, *corr, corrected, l_grid))
        return finish(self, x, status, messages("DPMSolverV3", n), nfe=n, num_steps=n)


# --- estimating the statistics ---------------------------------------------------------


def _ems_grid(schedule, num_lambdas, t_start, t_end, dtype):
    t_hi = schedule.t_max if t_start is None else float(t_start)
    t_lo = schedule.t_min if t_end is None else float(t_end)
    if not (schedule.t_min <= t_lo < t_hi <= schedule.t_max):
        raise ValueError(f"model_statistics needs t_min <= t_end < t_start <= t_max = [{schedule.t_min}, "
                         f"{schedule.t_max}], got t_start={t_hi}, t_end={t_lo}.")
    with jax.ensure_compile_time_eval():
        ends = np.asarray(schedule.lambda_(jnp.asarray([t_hi, t_lo], dtype)), np.float64)
    if not np.all(np.isfinite(ends)):
        raise ValueError(f"model_statistics: the log-SNR is infinite at t = {t_hi if not np.isfinite(ends[0]) else t_lo} "
                         f"for {type(schedule).__name__}; pass t_start/t_end where alpha and sigma are both > 0.")
    lambdas = jnp.linspace(ends[0], ends[1], num_lambdas, dtype=dtype)
    times = schedule.inverse_lambda(lambdas).astype(dtype)
    times = times.at[0].set(t_hi).at[-1].set(t_lo)
    return lambdas, times


def _schedule_rates(schedule, t):
    """``alpha, sigma, dt/dlambda, dalpha/dlambda`` at ``t``."""
    one = jnp.ones_like(t)
    alpha, d_alpha = jax.jvp(schedule.alpha, (t,), (one,))
    _, d_lam = jax.jvp(schedule.lambda_, (t,), (one,))
    t_dot = (1.0 / d_lam).astype(t.dtype)
    return alpha.astype(t.dtype), schedule.sigma(t).astype(t.dtype), t_dot, (d_alpha * t_dot).astype(t.dtype)


def _chunks(arrays, chunk):
    """Stack ``(n, *shape)`` arrays into ``(num_chunks, chunk, *shape)`` padded with zeros, and
    the mask of real points."""
    n = arrays[0].shape[0]
    num = -(-n // chunk)
    pad = num * chunk - n
    out = [jnp.concatenate([a, jnp.zeros((pad,) + a.shape[1:], a.dtype)]).reshape((num, chunk) + a.shape[1:])
           for a in arrays]
    mask = (jnp.arange(num * chunk) < n).astype(arrays[0].dtype).reshape(num, chunk)
    return out, mask


def _merge(state, chunk_stats):
    """Chan et al.'s pairwise update of (count, means, centered co-moments)."""
    n_a, mean_a, m2_a = state
    n_b, mean_b, m2_b = chunk_stats
    n = n_a + n_b
    delta = [mb - ma for ma, mb in zip(mean_a, mean_b)]
    frac = n_b / jnp.maximum(n, 1.0)
    means = tuple(ma + d * frac for ma, d in zip(mean_a, delta))
    # m2 holds (f, f), (f1, f)
    cross = n_a * frac
    m2 = (m2_a[0] + m2_b[0] + delta[0] * delta[0] * cross, m2_a[1] + m2_b[1] + delta[1] * delta[0] * cross)
    return n, means, m2


def _derivative(values, lambdas):
    """``d values / d lambda`` on the uniform grid: central differences inside, second-order
    one-sided ones at the ends (first order with two nodes)."""
    gap = (lambdas[-1] - lambdas[0]) / (lambdas.shape[0] - 1)
    if values.shape[0] == 2:
        d = (values[1] - values[0]) / gap
        return jnp.stack([d, d])
    inner = (values[2:] - values[:-2]) / (2.0 * gap)
    first = (-3.0 * values[0] + 4.0 * values[1] - values[2]) / (2.0 * gap)
    last = (3.0 * values[-1] - 4.0 * values[-2] + values[-3]) / (2.0 * gap)
    return jnp.concatenate([first[None], inner, last[None]])


@eqx.filter_jit
def _estimate(model, schedule, parametrization, lambdas, times, chunks, mask, count):
    noise_fn = to_noise(model, schedule, parametrization)
    noise = lambda x, t: noise_fn(x, t).astype(x.dtype)
    ndim = chunks[0].ndim - 2
    weight = lambda m: _column(m, ndim)

    # pass 1: l = E[v * sigma (J v)] at every lambda (Hutchinson, Rademacher probes)
    def l_at(t):
        alpha, sigma, _, _ = _schedule_rates(schedule, t)

        def chunk_sum(total, inputs):
            (x0, e, v), m = inputs

            def one(x0, e, v):
                _, jv = jax.jvp(lambda z: noise(z, t), (alpha * x0 + sigma * e,), (v,))
                return v * sigma * jv

            return total + jnp.sum(weight(m) * jax.vmap(one)(x0, e, v), axis=0), None

        total, _ = jax.lax.scan(chunk_sum, jnp.zeros(chunks[0].shape[2:], chunks[0].dtype), (chunks, mask))
        return total / count

    ell = jax.lax.map(l_at, times)
    dl = _derivative(ell, lambdas)

    # pass 2: f and its total derivative f1 along the ODE; s = Cov(f1, f) / Var(f), b = E f1 - s E f
    def sb_at(inputs):
        t, l_t, dl_t = inputs
        alpha, sigma, t_dot, alpha_dot = _schedule_rates(schedule, t)
        rho = sigma / alpha

        def one(x0, e):
            x = alpha * x0 + sigma * e
            eps, linear = jax.linearize(noise, x, t)
            y = x / alpha
            a = rho * eps  # = -dy/dlambda
            eps_dot = linear(alpha_dot * y - alpha * a, t_dot)
            f = a - l_t * y
            f1 = rho * (eps_dot - eps) + l_t * a - dl_t * y
            return f, f1, a * a + (l_t * y) ** 2

        def chunk_merge(state, inputs):
            (x0, e, _), m = inputs
            f, f1, scale = jax.vmap(one)(x0, e)
            w = weight(m)
            n_b = jnp.sum(m)
            mean_f = jnp.sum(w * f, axis=0) / jnp.maximum(n_b, 1.0)
            mean_f1 = jnp.sum(w * f1, axis=0) / jnp.maximum(n_b, 1.0)
            df, df1 = f - mean_f[None], f1 - mean_f1[None]
            m2 = (jnp.sum(w * df * df, axis=0), jnp.sum(w * df1 * df, axis=0))
            merged = _merge(state[:3], (n_b, (mean_f, mean_f1), m2))
            return merged + (state[3] + jnp.sum(w * scale, axis=0),), None

        zeros = jnp.zeros(chunks[0].shape[2:], chunks[0].dtype)
        init = (jnp.zeros((), zeros.dtype), (zeros, zeros), (zeros, zeros), zeros)
        (_, (mean_f, mean_f1), (m_ff, m_f1f), scale), _ = jax.lax.scan(chunk_merge, init, (chunks, mask))
        var, cov = m_ff / count, m_f1f / count
        # where Var(f) is at the rounding level of f's terms, f is deterministic (an exactly linear
        # model): Cov / Var would be rounding noise over rounding noise, and s = 0 fits as well
        floor = (1e3 * jnp.finfo(var.dtype).eps) ** 2 * scale / count
        determined = var > floor
        s = jnp.where(determined, cov / jnp.where(determined, var, 1.0), 0.0)
        return s, mean_f1 - s * mean_f

    s, b = jax.lax.map(sb_at, (times, ell, dl))
    return ell, s, b


def model_statistics(model: Callable, schedule: AbstractSchedule, data: Float[ArrayLike, " n *shape"], *,
                     key: PRNGKeyArray, num_lambdas: int = 1200, chunk_size: int = 256,
                     t_start: float | None = None, t_end: float | None = None,
                     parametrization: str = "eps") -> ModelStatistics:
    """Estimate DPM-Solver-v3's empirical model statistics of ``model`` (Zheng et al.,
    NeurIPS 2023, Sec. 3.1, and the authors' estimation procedure; formulas in the module
    docstring).

    On ``num_lambdas`` log-SNRs uniform from ``lambda(t_start)`` to ``lambda(t_end)`` (default
    the schedule's ``t_max`` and ``t_min``), for every data point ``x0``: ``x = alpha x0 + sigma
    eps``; pass 1 gives ``l = mean(v * sigma (J_x eps) v)`` (Rademacher ``v``, one JVP), pass 2,
    after ``dl/dlambda`` by finite differences, ``s = Cov(f^(1), f) / Var(f)`` and ``b =
    mean(f^(1)) - s mean(f)`` with ``f^(1)`` from one JVP along ``(dx/dlambda, dt/dlambda)``.
    The same noises ``eps`` and probes ``v`` serve every ``lambda`` (common random numbers), so
    the estimates are smooth in ``lambda`` and their finite differences are not noise (the
    authors' code draws new noise at every ``lambda`` and smooths ``dl/dlambda`` over 11 nodes
    instead). Variances are merged chunk by chunk (Chan et al.'s pairwise update), so the
    result does not depend on ``chunk_size`` beyond rounding. Where ``Var(f)`` is below the
    rounding level of ``f``'s terms (``(1000 eps)^2 mean(a^2 + (l y)^2)``), ``f`` is
    deterministic (an exactly linear model, e.g. Gaussian data) and ``s = 0`` instead of
    rounding noise over rounding noise.

    Cost: ``2 num_lambdas n`` model evaluations with one JVP each (the authors: 1200 log-SNRs
    and 4096 images for CIFAR-10 at 5-10 NFE); memory: ``chunk_size`` points through the model
    at once, plus ``O(num_lambdas * d)`` for the results. It runs as one compiled program
    (call it outside ``jit``; ``num_lambdas``, ``chunk_size`` and the ends are static).
    Compute in float64 where possible: ``Var(f)`` is small at high noise.

    Args:
        model: ``model(x, t)`` on one sample, of the given ``parametrization``; it is
            differentiated in ``x`` and ``t`` (forward mode).
        schedule: the schedule it was trained with.
        data: ``(n, *shape)`` data points, ``n >= 2`` (draws of the data distribution).
        key: PRNG key (keyword-only) for the noises and probes.
        num_lambdas: log-SNR nodes, ``>= 2``.
        chunk_size: data points per model batch.
        t_start, t_end: the time range (the sampling grids must stay inside it).
        parametrization: what the model predicts.

    Returns:
        The :class:`ModelStatistics`, in ``data``'s dtype.

    Example:
        >>> from jaxsci import diffusion as D
        >>> s = D.VPLinear(); model = D.GaussianEps(s, jnp.zeros(2), 0.5)
        >>> data = 0.5 * jax.random.normal(jax.random.key(0), (64, 2))
        >>> ems = D.model_statistics(model, s, data, num_lambdas=20, chunk_size=32, key=jax.random.key(1))
        >>> ems.l.shape
        (20, 2)
    """
    if not callable(model):
        raise TypeError(f"`model` must be a callable model(x, t), got {type(model).__name__}.")
    _check_schedule(schedule)
    key = check_key(key)
    check_one_of(parametrization, PARAMETRIZATIONS, "parametrization")
    check_positive_int(num_lambdas, "num_lambdas")
    if num_lambdas < 2:
        raise ValueError(f"`num_lambdas` must be at least 2 (a grid of log-SNRs), got {num_lambdas}.")
    check_positive_int(chunk_size, "chunk_size")
    data = float_input(data, "data")
    if data.ndim < 2 or data.shape[0] < 2:
        raise ValueError(f"`data` must have shape (n, *sample_shape) with n >= 2 data points (a leading batch "
                         f"axis), got {data.shape}.")
    if not bool(jnp.all(jnp.isfinite(data))):
        raise ValueError("`data` holds NaN/inf: every data point must be finite.")
    dtype = data.dtype
    lambdas, times = _ems_grid(schedule, num_lambdas, t_start, t_end, dtype)
    out = jax.eval_shape(model, data[0], times[0])
    if not isinstance(out, jax.ShapeDtypeStruct) or out.shape != data.shape[1:]:
        got = out.shape if isinstance(out, jax.ShapeDtypeStruct) else type(out).__name__
        raise ValueError(f"`model(x, t)` must return an array shaped like one data point, {data.shape[1:]}, but it "
                         f"returned {got}: `data` is (n, *sample_shape) and the model acts on one sample.")
    k_noise, k_probe = jax.random.split(key)
    noises = jax.random.normal(k_noise, data.shape, dtype)
    probes = jax.random.rademacher(k_probe, data.shape, dtype)
    chunks, mask = _chunks((data, noises, probes), min(chunk_size, data.shape[0]))
    ell, s, b = _estimate(model, schedule, parametrization, lambdas, times, tuple(chunks), mask,
                          jnp.asarray(data.shape[0], dtype))
    return ModelStatistics(lambdas, ell, s, b)


# --- saving and loading ------------------------------------------------------------------


def save_statistics(path: str | Path, statistics: ModelStatistics, *, schedule: AbstractSchedule | None = None,
                    overwrite: bool = False, **metadata) -> Path:
    """Write ``statistics`` to an ``.npz`` file (the arrays at their precision) with the schedule
    they were computed for and any ``metadata`` (JSON-serializable). An existing file is refused
    unless ``overwrite=True``. Returns the path (written as given, no suffix added).

    Example:
        >>> import tempfile, os
        >>> from jaxsci import diffusion as D
        >>> ems = D.ModelStatistics.constant(jnp.linspace(-5.0, 5.0, 11), (3,))
        >>> path = D.save_statistics(os.path.join(tempfile.mkdtemp(), "ems.npz"), ems, num_points=0)
        >>> D.load_statistics(path).l.shape
        (11, 3)
    """
    if not isinstance(statistics, ModelStatistics):
        raise TypeError(f"save_statistics needs a ModelStatistics, got {type(statistics).__name__}.")
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; pass overwrite=True to replace it.")
    try:
        meta = json.dumps(metadata)
    except TypeError as error:
        raise TypeError(f"save_statistics: the metadata must be JSON-serializable ({error}).") from None
    arrays = {name: np.asarray(getattr(statistics, name)) for name in ("lambdas", "l", "s", "b")}
    with path.open("wb") as handle:
        np.savez(handle, format=np.asarray(STATISTICS_FORMAT), schedule=np.asarray(
            "" if schedule is None else repr(schedule)), metadata=np.asarray(meta), **arrays)
    return path


def load_statistics(path: str | Path, *, schedule: AbstractSchedule | None = None) -> ModelStatistics:
    """Read statistics written by :func:`save_statistics` (in the default float dtype). With
    ``schedule``, the file must have been written for an equal schedule (compared by ``repr``)."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as record:
            fields = {name: record[name] for name in record.files}
    except (ValueError, OSError) as error:
        if isinstance(error, FileNotFoundError):
            raise
        raise ValueError(f"{path} is not a statistics file written by save_statistics ({error}).") from None
    if str(fields.get("format", "")) != STATISTICS_FORMAT or not {"lambdas", "l", "s", "b"} <= set(fields):
        raise ValueError(f"{path} is not a statistics file written by save_statistics (no format "
                         f"{STATISTICS_FORMAT!r}).")
    if schedule is not None and str(fields["schedule"]) != repr(schedule):
        raise ValueError(f"{path} holds statistics for {str(fields['schedule']) or 'an unnamed schedule'}, not for "
                         f"{schedule!r} (pass schedule=None to read them anyway).")
    dtype = jnp.result_type(float)
    return ModelStatistics(*(jnp.asarray(fields[name], dtype) for name in ("lambdas", "l", "s", "b")))
