"""Model parametrizations and wrappers.

A model is any callable ``model(x, t)`` on one sample ``x`` (vmap it for batches). With
``x_t = alpha_t x_0 + sigma_t eps`` it predicts one of

* ``"eps"``: the noise ``eps``;
* ``"x0"``: the data ``x_0``;
* ``"v"``: ``v = alpha_t eps - sigma_t x_0`` (Salimans & Ho, ICLR 2022);
* ``"score"``: ``grad_x log p_t(x) = -eps / sigma_t``;
* ``"flow"``: the flow-matching velocity ``v = eps - x_0`` (rectified flow, Liu et al., ICLR
  2023; the target of Stable Diffusion 3, Esser et al. 2024, eq. 2-3, and of diffusers'
  flow-match schedulers); on :class:`FlowMatching` (``alpha_t = 1 - t``, ``sigma_t = t``) it is
  ``dx_t / dt``. From ``x = alpha x_0 + sigma eps``: ``x_0 = (x - sigma v) / (alpha + sigma)``,
  ``eps = (x + alpha v) / (alpha + sigma)``.

Each is an affine function of the others given ``(x, t)``; ``to_data`` and ``to_noise``
convert, so a sampler can work in the parametrization its formulas need.
``classifier_free_guidance`` (Ho & Salimans 2021) and ``dynamic_thresholding`` (Saharia et
al. 2022, Imagen, Sec. 2.3) are wrappers.
"""

from __future__ import annotations

from collections.abc import Callable

import jax.numpy as jnp

from ..internal import check_one_of, check_positive

PARAMETRIZATIONS = ("eps", "x0", "v", "score", "flow")


def to_data(model: Callable, schedule, parametrization: str = "eps") -> Callable:
    """``(x, t) -> x_0`` prediction from a model of the given parametrization.

    Example:
        >>> from jaxsci import diffusion as D
        >>> s = D.VPLinear(); eps = D.GaussianEps(s, jnp.zeros(2), 0.0)   # data: the point 0
        >>> bool(jnp.allclose(D.to_data(eps, s, "eps")(jnp.ones(2), 0.5), 0.0, atol=1e-5))
        True
    """
    check_one_of(parametrization, PARAMETRIZATIONS, "parametrization")
    if parametrization == "x0":
        return model

    def data(x, t):
        a, s = schedule.alpha(t), schedule.sigma(t)
        out = model(x, t)
        if parametrization == "eps":
            return (x - s * out) / a
        if parametrization == "score":
            return (x + s**2 * out) / a
        if parametrization == "flow":
            return (x - s * out) / (a + s)
        return (a * x - s * out) / (a**2 + s**2)  # v

    return data


def to_noise(model: Callable, schedule, parametrization: str = "eps") -> Callable:
    """``(x, t) -> eps`` prediction from a model of the given parametrization.

    Example:
        >>> from jaxsci import diffusion as D
        >>> s = D.VPLinear(); x0_model = lambda x, t: jnp.zeros_like(x)    # data: the point 0
        >>> eps = D.to_noise(x0_model, s, "x0")(jnp.ones(2), 0.5)          # = x / sigma_t
    """
    check_one_of(parametrization, PARAMETRIZATIONS, "parametrization")
    if parametrization == "eps":
        return model

    def noise(x, t):
        a, s = schedule.alpha(t), schedule.sigma(t)
        out = model(x, t)
        if parametrization == "x0":
            return (x - a * out) / s
        if parametrization == "score":
            return -s * out
        if parametrization == "flow":
            return (x + a * out) / (a + s)
        return (s * x + a * out) / (a**2 + s**2)  # v

    return noise


def classifier_free_guidance(conditional: Callable, unconditional: Callable, scale: float) -> Callable:
    """``uncond + scale (cond - uncond)`` (Ho & Salimans 2021, eq. 6 with ``w = scale - 1``).

    Works in any parametrization (the conversions are affine in the model output), so
    wrap the raw models and pass the result to a sampler with their parametrization.

    Example:
        >>> guided = classifier_free_guidance(lambda x, t: x + 1.0, lambda x, t: x, 3.0)
        >>> guided(jnp.zeros(2), 0.5)
        Array([3., 3.], dtype=float32)
    """

    def guided(x, t):
        u = unconditional(x, t)
        return u + scale * (conditional(x, t) - u)

    return guided


def dynamic_thresholding(data_model: Callable, percentile: float = 0.995, max_threshold: float = 1.0) -> Callable:
    """Imagen's dynamic thresholding of a data prediction (Saharia et al. 2022, Sec. 2.3).

    ``s = clip(quantile(|x0|, percentile), 1, max_threshold)``; ``x0 <- clip(x0, -s, s) / s``.
    With ``max_threshold = 1`` it is static clipping to ``[-1, 1]``. Pass the result with
    ``parametrization="x0"``.

    Example:
        >>> clipped = dynamic_thresholding(lambda x, t: 2.0 * x, percentile=1.0, max_threshold=1.0)
        >>> clipped(jnp.array([0.25, 1.0]), 0.5)
        Array([0.5, 1. ], dtype=float32)
    """
    if not 0.0 < percentile <= 1.0:
        raise ValueError(f"`percentile` must be in (0, 1], got {percentile}.")
    check_positive(max_threshold, "max_threshold")
    if max_threshold < 1.0:
        raise ValueError(f"`max_threshold` must be >= 1, got {max_threshold}.")

    def thresholded(x, t):
        x0 = data_model(x, t)
        s = jnp.clip(jnp.quantile(jnp.abs(x0), percentile), 1.0, max_threshold)
        return jnp.clip(x0, -s, s) / s

    return thresholded
