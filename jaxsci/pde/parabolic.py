"""High-dimensional semilinear parabolic equations, from the STDE paper.

Shi, Hu, Lin, Kawaguchi, "Stochastic Taylor Derivative Estimator", NeurIPS 2024,
Appendix H.2, following Hu, Shukla, Karniadakis, Kawaguchi, "Tackling the curse of
dimensionality with physics-informed neural networks" (SDGD, 2023): on R^d x [0, T],

    u_t + Lap_x u + f(u) = 0,        u(x, T) = g(x),

solved backwards from the terminal time, with

* ``"heat"`` (semilinear heat):  ``f(u) = (1 - u^2) / (1 + u^2)``, ``g(x) = 5 / (10 + 2|x|^2)``
* ``"allen_cahn"``:              ``f(u) = u - u^3``,                ``g(x) = arctan(max_i x_i)``
* ``"sine_gordon"``:             ``f(u) = sin u``,                  ``g(x) = 5 / (10 + 2|x|^2)``

and T = 0.3. The quantity of interest is ``u(0, 0)``. By the Feynman-Kac formula it is an
expectation over ``X_t = sqrt(2) W_t`` (a Brownian motion started at the origin), so the
collocation points are drawn from that process: ``t ~ U[0, T]``, ``x ~ N(0, 2t I)``, and
terminal points ``x ~ N(0, 2T I)`` at ``t = T``. The reference values of ``u(0, 0)`` are the
multilevel Picard values published with these benchmarks (SDGD paper, as used by the
STDE paper; d in {10, 100, 1000, 10000}).

For Sine-Gordon ``u(0, 0)`` shrinks like ``1/d``; as in the STDE paper's experiments the
unknown is then the rescaled ``v = d u``, which solves ``v_t + Lap v + d sin(v / d) = 0``
with ``v(x, T) = d g(x)`` (``scale = d``; ``scale = 1`` for the other two).
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from .. import taylor
from ..internal import check_one_of, check_positive, check_positive_int
from ._domain import AbstractDomain, _check_points, _n_and_key
from ._problem import PDEProblem, check_derivatives

KINDS = ("heat", "allen_cahn", "sine_gordon")

# u(0, 0) by multilevel Picard iteration, as published with the benchmark (see module doc).
REFERENCE_U00 = {
    "heat": {10: 0.47006, 100: 0.31674, 1000: 0.28753, 10000: 0.28433},
    "allen_cahn": {10: 0.89060, 100: 1.04510, 1000: 1.09100, 10000: 1.11402},
    "sine_gordon": {10: 0.3229470, 100: 0.0528368, 1000: 0.0055896, 10000: 0.0005621},
}


class BrownianSpaceTime(AbstractDomain):
    """Points ``(x, t)`` (time last) of ``X_t = sqrt(2) W_t``, ``W`` a Brownian motion from 0.

    ``sample`` draws ``t ~ U[0, T]`` and ``x ~ N(0, 2 t I)``; ``sample_terminal`` draws
    ``x ~ N(0, 2 T I)`` at ``t = T``. The domain itself is all of ``R^d x [0, T]``.
    """

    space_dim: int = eqx.field(static=True)
    horizon: float
    dim: int = eqx.field(static=True)

    def __init__(self, space_dim: int, horizon: float):
        check_positive(horizon, "horizon")
        check_positive_int(space_dim, "space_dim")
        self.space_dim = int(space_dim)
        self.horizon = float(horizon)
        self.dim = self.space_dim + 1

    def contains(self, x, tol=1e-6):
        """Whether each point's time lies in ``[0, T]`` (space is all of R^d)."""
        x = _check_points(x, self.dim)
        t = x[..., -1]
        return (t >= -tol) & (t <= self.horizon + tol)

    def sample(self, n, *args, key=None):
        """``n`` points ``(x, t)``: ``t ~ U[0, T]``, ``x ~ N(0, 2 t I)``."""
        n, key = _n_and_key(n, args, key, "sample")
        k1, k2 = jax.random.split(key)
        t = jax.random.uniform(k1, (n, 1), maxval=self.horizon)
        x = jax.random.normal(k2, (n, self.space_dim)) * jnp.sqrt(2.0 * t)
        return jnp.concatenate([x, t], axis=-1)

    def sample_terminal(self, n, *args, key=None):
        """Points ``(x, T)`` with ``x ~ N(0, 2 T I)``."""
        n, key = _n_and_key(n, args, key, "sample_terminal")
        x = jax.random.normal(key, (n, self.space_dim)) * jnp.sqrt(2.0 * self.horizon)
        return jnp.concatenate([x, jnp.full((n, 1), self.horizon, x.dtype)], axis=-1)


class SemilinearParabolic(PDEProblem):
    """``u_t + Lap_x u + f(u) = 0`` on ``R^d x [0, T]`` with ``u(x, T) = g(x)`` (module doc).

    Points are ``(x_1, ..., x_d, t)``. The residual uses two operators, the spatial
    Laplacian (which the stochastic backends estimate) and ``d/dt`` (always exact).

    Args:
        dim: the spatial dimension d.
        kind: ``"heat"``, ``"allen_cahn"`` or ``"sine_gordon"``.
        horizon: the terminal time T (0.3 in the benchmark; the reference values hold
            only for 0.3).

    Example:
        >>> problem = SemilinearParabolic(1000, "heat")
        >>> pts = problem.domain.sample(100, key=jax.random.key(0))
        >>> ends = problem.domain.sample_terminal(100, key=jax.random.key(1))
        >>> pts.shape, problem.terminal_condition(ends[0]).shape, problem.reference_value()
        ((100, 1001), (), 0.28753)
    """

    space_dim: int = eqx.field(static=True)
    kind: str = eqx.field(static=True)
    scale: float = eqx.field(static=True)
    name: str = eqx.field(static=True)
    domain: BrownianSpaceTime
    operators: tuple

    def __init__(self, dim: int, kind: str = "heat", horizon: float = 0.3):
        check_one_of(kind, KINDS, "kind")
        check_positive_int(dim, "dim")
        self.space_dim = int(dim)
        check_positive(horizon, "horizon")
        self.kind = kind
        self.scale = float(dim) if kind == "sine_gordon" else 1.0
        self.name = f"semilinear {kind.replace('_', '-')} d={dim}"
        self.domain = BrownianSpaceTime(dim, horizon)
        self.operators = (
            taylor.laplacian(dim + 1, time_index=dim),
            taylor.time_derivative(dim + 1, dim),
        )

    def nonlinearity(self, v):
        """``f`` applied to the (rescaled) unknown ``v = scale * u``, times ``scale``."""
        u = v / self.scale
        if self.kind == "heat":
            f = (1.0 - u**2) / (1.0 + u**2)
        elif self.kind == "allen_cahn":
            f = u - u**3
        else:
            f = jnp.sin(u)
        return self.scale * f

    def terminal_condition(self, point: Float[Array, " d1"]) -> Float[Array, ""]:
        """``scale * g(x)`` at a point ``(x, t)`` (``t`` is ignored)."""
        if not hasattr(point, "shape") or tuple(point.shape) != (self.dim,):
            raise ValueError(
                f"`point` must be one point (x, t) of shape ({self.dim},), got "
                f"{getattr(point, 'shape', type(point).__name__)}."
            )
        x = point[: self.space_dim]
        if self.kind == "allen_cahn":
            return jnp.arctan(jnp.max(x))
        return self.scale * 5.0 / (10.0 + 2.0 * (x @ x))

    def residual(self, x, u, derivatives):
        lap, u_t = check_derivatives(self, derivatives)
        return u_t + lap + self.nonlinearity(u)

    def solution(self, x):
        """Not available in closed form: see :meth:`reference_value` for ``u(0, 0)``."""
        raise ValueError(
            f"{self.name} has no closed-form solution; its reference is the published value "
            "of u(0, 0): problem.reference_value() at problem.origin()."
        )

    def reference_value(self) -> float:
        """``scale * u(0, 0)`` from the published multilevel Picard table."""
        table = REFERENCE_U00[self.kind]
        if self.space_dim not in table or float(self.domain.horizon) != 0.3:
            raise ValueError(
                f"no published reference value for {self.kind} with d={self.space_dim}, "
                f"T={float(self.domain.horizon)}: the table covers T=0.3 and d in {sorted(table)}."
            )
        return self.scale * table[self.space_dim]

    def origin(self, dtype=None) -> Float[Array, " d1"]:
        """The point ``(0, 0)`` where the reference value holds."""
        return jnp.zeros(self.dim, dtype=dtype or jnp.result_type(float))
