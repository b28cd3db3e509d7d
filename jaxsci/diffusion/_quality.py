"""Quality figures for diffusion samplers, and the denoising training loss.

* ``probability_flow_reference``: a tight diffrax solve of the probability-flow ODE of any
  model, the reference against which a sampler's endpoint error is measured (the metric of
  DPM-Solver-v3, Zheng et al., NeurIPS 2023, Sec. 5). In ``y = x / alpha_t`` it reads
  ``dy / dlambda = -(y - x0(x_t, t))`` (Lu et al., DPM-Solver, NeurIPS 2022, eq. 3.4
  differentiated in ``lambda``).
* ``sliced_wasserstein``: ``(E_theta W_p^p(theta.x, theta.y))^(1/p)`` over random unit
  directions (Bonneel et al., J. Math. Imaging Vis. 2015, eq. 4), each 1D distance from
  sorted projections (equal sample sizes).
* ``frechet_distance``: the squared Frechet (2-Wasserstein) distance of the Gaussians with
  the samples' means and covariances, ``|m1 - m2|^2 + tr(S1 + S2 - 2 (S1^1/2 S2 S1^1/2)^1/2)``
  (Dowson & Landau, J. Multivariate Anal. 1982; the FID of Heusel et al., NeurIPS 2017, eq. 6).
* ``denoising_loss``: denoising score matching (Ho et al., NeurIPS 2020, eq. 14) in the
  eps, x0, v (Salimans & Ho, ICLR 2022, Sec. 4) or score parametrization.
"""

from __future__ import annotations

from collections.abc import Callable

import diffrax
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray

from ..internal import check_key, check_one_of, check_positive, check_positive_int
from ._model import PARAMETRIZATIONS, to_data


def probability_flow_reference(model: Callable, schedule, x_T: Float[Array, "*shape"], *,
                               parametrization: str = "eps", t_from=None, t_to=None,
                               rtol: float | None = None, atol: float | None = None,
                               solver: diffrax.AbstractSolver | None = None,
                               max_steps: int = 100_000) -> Float[Array, "*shape"]:
    """The probability-flow ODE's map of one sample ``x_T`` from ``t_from`` (default
    ``schedule.t_max``) to ``t_to`` (default ``schedule.t_min``), solved with diffrax in
    ``lambda`` (default ``Tsit5``, ``rtol = atol = 1e-9`` in float64, ``1e-6`` in float32).
    vmap it over a batch; diffrax raises if the solve fails.

    Example:
        >>> from jaxsci import diffusion as D
        >>> s = D.VPLinear(); model = D.GaussianEps(s, jnp.zeros(2), 0.5)
        >>> x0 = D.probability_flow_reference(model, s, jnp.ones(2))
    """
    check_one_of(parametrization, PARAMETRIZATIONS, "parametrization")
    x_T = jnp.asarray(x_T)
    tight = 1e-9 if x_T.dtype == jnp.float64 else 1e-6
    rtol, atol = rtol or tight, atol or tight
    t_from = schedule.t_max if t_from is None else t_from
    t_to = schedule.t_min if t_to is None else t_to
    data = to_data(model, schedule, parametrization)
    lam0 = jnp.asarray(schedule.lambda_(t_from), x_T.dtype)
    lam1 = jnp.asarray(schedule.lambda_(t_to), x_T.dtype)

    def field(lam, y, _):
        t = schedule.inverse_lambda(lam)
        return -(y - data(schedule.alpha(t) * y, t))

    sol = diffrax.diffeqsolve(
        diffrax.ODETerm(field), solver or diffrax.Tsit5(), lam0, lam1, None,
        x_T / schedule.alpha(t_from),
        stepsize_controller=diffrax.PIDController(rtol=rtol, atol=atol),
        max_steps=max_steps, saveat=diffrax.SaveAt(t1=True),
    )
    ys = sol.ys
    assert ys is not None  # SaveAt(t1=True)
    return schedule.alpha(t_to) * ys[0]


def sliced_wasserstein(x: Float[Array, "n d"], y: Float[Array, "n d"], *, key: PRNGKeyArray,
                       num_projections: int = 64, p: int = 1) -> Float[Array, ""]:
    """Sliced ``p``-Wasserstein distance of two equal-size sample sets (``p`` 1 or 2).

    Example:
        >>> from jaxsci import diffusion as D
        >>> x = jax.random.normal(jax.random.key(0), (500, 3))
        >>> float(D.sliced_wasserstein(x, x, key=jax.random.key(1)))
        0.0
    """
    key = check_key(key)
    check_positive_int(num_projections, "num_projections")
    check_one_of(p, (1, 2), "p")
    x, y = jnp.asarray(x), jnp.asarray(y)
    if x.ndim != 2 or x.shape != y.shape:
        raise ValueError(f"sliced_wasserstein needs two (n, d) arrays of one shape, got {x.shape} and {y.shape}.")
    dirs = jax.random.normal(key, (num_projections, x.shape[1]), dtype=x.dtype)
    dirs = dirs / jnp.linalg.norm(dirs, axis=1, keepdims=True)
    diff = jnp.abs(jnp.sort(x @ dirs.T, axis=0) - jnp.sort(y @ dirs.T, axis=0))
    return jnp.mean(diff**p) ** (1.0 / p)


def _gaussian_frechet(m1, c1, m2, c2):
    w, v = jnp.linalg.eigh(c1)
    root = (v * jnp.sqrt(jnp.clip(w, 0.0))[None, :]) @ v.T
    inner = jnp.linalg.eigvalsh(root @ c2 @ root)
    return jnp.sum((m1 - m2) ** 2) + jnp.trace(c1) + jnp.trace(c2) - 2.0 * jnp.sum(jnp.sqrt(jnp.clip(inner, 0.0)))


def frechet_distance(x: Float[Array, "n d"], y: Float[Array, "m d"]) -> Float[Array, ""]:
    """Squared Frechet distance of the Gaussians fitted to two sample sets (FID convention).

    Example:
        >>> from jaxsci import diffusion as D
        >>> x = jax.random.normal(jax.random.key(0), (500, 3))
        >>> bool(D.frechet_distance(x, x) < 1e-4)
        True
    """
    x, y = jnp.asarray(x), jnp.asarray(y)
    if x.ndim != 2 or y.ndim != 2 or x.shape[1] != y.shape[1] or min(x.shape[0], y.shape[0]) < 2:
        raise ValueError(f"frechet_distance needs (n, d) and (m, d) arrays, n, m >= 2, got {x.shape} and {y.shape}.")
    return _gaussian_frechet(jnp.mean(x, 0), jnp.cov(x, rowvar=False).reshape(x.shape[1], -1),
                             jnp.mean(y, 0), jnp.cov(y, rowvar=False).reshape(y.shape[1], -1))


def denoising_loss(model: Callable, schedule, x0: Float[Array, "n ..."], *, key: PRNGKeyArray,
                   parametrization: str = "eps", t_min: float | None = None) -> Float[Array, ""]:
    """Mean squared error of ``model(alpha_t x0 + sigma_t eps, t)`` against its target, ``t``
    uniform on ``[t_min, schedule.t_max]``: ``eps``, ``x0``, ``v = alpha_t eps - sigma_t x0``,
    the flow velocity ``eps - x0`` (``"flow"``, rectified flow), or, for ``"score"``,
    ``sigma_t model + eps`` (the ``sigma_t^2`` weighting).

    Example:
        >>> from jaxsci import diffusion as D
        >>> zero = lambda x, t: jnp.zeros_like(x)
        >>> loss = D.denoising_loss(zero, D.VPLinear(), jnp.ones((8, 2)), key=jax.random.key(0))
    """
    key = check_key(key)
    check_one_of(parametrization, PARAMETRIZATIONS, "parametrization")
    x0 = jnp.asarray(x0)
    lo = schedule.t_min if t_min is None else t_min
    check_positive(schedule.t_max - lo, "t_max - t_min")
    k_t, k_eps = jax.random.split(key)
    t = jax.random.uniform(k_t, (x0.shape[0],), dtype=x0.dtype, minval=lo, maxval=schedule.t_max)
    eps = jax.random.normal(k_eps, x0.shape, dtype=x0.dtype)
    shape = (-1,) + (1,) * (x0.ndim - 1)
    a, s = schedule.alpha(t).reshape(shape), schedule.sigma(t).reshape(shape)
    pred = jax.vmap(model)(a * x0 + s * eps, t)
    if parametrization == "eps":
        err = pred - eps
    elif parametrization == "x0":
        err = pred - x0
    elif parametrization == "v":
        err = pred - (a * eps - s * x0)
    elif parametrization == "flow":
        err = pred - (eps - x0)
    else:
        err = s * pred + eps
    return jnp.mean(err**2)
