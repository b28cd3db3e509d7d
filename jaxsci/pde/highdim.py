"""High-dimensional elliptic problems on the unit ball, from the STDE paper.

Shi, Hu, Lin, Kawaguchi, "Stochastic Taylor Derivative Estimator", NeurIPS 2024,
Appendix H-I (following Hu et al., SDGD, 2023): with coefficients ``c_i ~ N(0, 1)`` drawn
from a seed, the exact solutions are

* two-body:   ``u(x) = (1 - |x|^2) sum_{i<d} c_i sin(x_i + cos x_{i+1} + x_{i+1} cos x_i)``
* three-body: ``u(x) = (1 - |x|^2) sum_{i<d-1} c_i exp(x_i x_{i+1} x_{i+2})``

and the equations ``Lap u + f(u) = g`` with ``f = 0`` (Poisson), ``u - u^3`` (Allen-Cahn)
or ``sin u`` (Sine-Gordon); the source ``g`` is the operator applied to the exact
solution. The Laplacians are written in closed form (O(d) per point), so sources are
cheap in any dimension: with ``u = (1 - r^2) s``,
``Lap u = (1 - r^2) Lap s - 4 x . grad s - 2 d s``.
The boundary condition ``u = 0`` on the unit sphere holds for the hard-constrained
ansatz ``(1 - |x|^2) net(x)`` used by the paper.
"""

from __future__ import annotations

from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from .. import taylor
from ..internal import check_one_of
from ._domain import Ball
from ._problem import PDEProblem, check_derivatives

NONLINEARITIES = ("poisson", "allen_cahn", "sine_gordon")
SOLUTIONS = ("two_body", "three_body")


def _nonlinearity(kind: str, u):
    if kind == "poisson":
        return jnp.zeros_like(u)
    if kind == "allen_cahn":
        return u - u**3
    return jnp.sin(u)


def two_body_terms(c, x):
    """``(s, x . grad s, Lap s)`` for ``s = sum_i c_i sin(theta_i)``,
    ``theta_i = x_i + cos x_{i+1} + x_{i+1} cos x_i``."""
    a, b = x[:-1], x[1:]
    sin_x, cos_x = jnp.sin(x), jnp.cos(x)  # shared by both neighbours: d, not 2d, evaluations
    sin_a, cos_a, sin_b, cos_b = sin_x[:-1], cos_x[:-1], sin_x[1:], cos_x[1:]
    theta = a + cos_b + b * cos_a
    da = 1.0 - b * sin_a  # d theta / d x_i
    db = cos_a - sin_b  # d theta / d x_{i+1}
    dda = -b * cos_a
    ddb = -cos_b
    sin, cos = jnp.sin(theta), jnp.cos(theta)
    s = c @ sin
    x_grad = c @ (cos * (a * da + b * db))
    lap = c @ (cos * (dda + ddb) - sin * (da**2 + db**2))
    return s, x_grad, lap


def three_body_terms(c, x):
    """``(s, x . grad s, Lap s)`` for ``s = sum_i c_i exp(x_i x_{i+1} x_{i+2})``."""
    p, q, r = x[:-2], x[1:-1], x[2:]
    e = jnp.exp(p * q * r)
    s = c @ e
    x_grad = c @ (3.0 * p * q * r * e)  # Euler: the exponent is homogeneous of degree 3
    lap = c @ (e * ((q * r) ** 2 + (p * r) ** 2 + (p * q) ** 2))
    return s, x_grad, lap


class BallProblem(PDEProblem):
    """``Lap u + f(u) = g`` on the unit ball in R^dim with an exact solution (STDE App. H).

    Args:
        dim: dimension d (>= 2 for two-body, >= 3 for three-body).
        solution_kind: ``"two_body"`` or ``"three_body"``.
        nonlinearity: ``"poisson"``, ``"allen_cahn"`` or ``"sine_gordon"``.
        seed: seed of the coefficients ``c_i ~ N(0, 1)``.
        radial: how points are drawn from the ball (training and test points):
            ``"uniform"`` (default: a uniform direction at a radius uniform in [0, 1], the
            STDE paper's protocol) or ``"volume"`` (uniform in volume, which in high
            dimension puts nearly every point next to the sphere, where u = 0).

    Example:
        >>> problem = BallProblem(1000, "two_body", "allen_cahn")
        >>> x = problem.domain.sample(1, key=jax.random.key(0))[0]
        >>> problem.solution(x).shape, problem.source(x).shape
        ((), ())
    """

    dim_: int = eqx.field(static=True)
    solution_kind: str = eqx.field(static=True)
    nonlinearity: str = eqx.field(static=True)
    coefficients: Float[Array, " m"]
    name: str = eqx.field(static=True)
    domain: Ball
    operators: tuple

    def __init__(self, dim: int, solution_kind: str = "two_body", nonlinearity: str = "allen_cahn",
                 seed: int = 0, dtype=None, radial: str = "uniform"):
        check_one_of(solution_kind, SOLUTIONS, "solution_kind")
        check_one_of(nonlinearity, NONLINEARITIES, "nonlinearity")
        lowest = 2 if solution_kind == "two_body" else 3
        if isinstance(dim, bool) or not isinstance(dim, int) or dim < lowest:
            raise ValueError(f"the {solution_kind} solution needs an integer dim >= {lowest}, got {dim!r}.")
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise TypeError(f"`seed` must be an integer, got {seed!r}.")
        dtype = dtype or jnp.result_type(float)
        if not jnp.issubdtype(dtype, jnp.floating):
            raise TypeError(f"`dtype` must be a floating-point dtype, got {dtype}.")
        self.dim_ = dim
        self.solution_kind = solution_kind
        self.nonlinearity = nonlinearity
        m = dim - 1 if solution_kind == "two_body" else dim - 2
        self.coefficients = jax.random.normal(jax.random.key(seed), (m,), dtype=dtype)
        self.name = f"{solution_kind.replace('_', '-')} {nonlinearity.replace('_', '-')} d={dim}"
        self.domain = Ball(dim, 1.0, radial)
        self.operators = (taylor.laplacian(dim),)

    def _terms(self, x):
        c = self.coefficients.astype(x.dtype)
        return (two_body_terms if self.solution_kind == "two_body" else three_body_terms)(c, x)

    def solution(self, x):
        s, _, _ = self._terms(x)
        return (1.0 - x @ x) * s

    def exact_laplacian(self, x):
        """``Lap u`` of the exact solution, in closed form."""
        s, x_grad, lap_s = self._terms(x)
        return (1.0 - x @ x) * lap_s - 4.0 * x_grad - 2.0 * self.dim_ * s

    def source(self, x):
        """``g = Lap u* + f(u*)`` for the exact solution ``u*``."""
        return self.exact_laplacian(x) + _nonlinearity(self.nonlinearity, self.solution(x))

    def residual(self, x, u, derivatives):
        (lap,) = check_derivatives(self, derivatives)
        return lap + _nonlinearity(self.nonlinearity, u) - self.source(x)

    def hard_constraint(self, net: Callable) -> Callable:
        """``x -> (1 - |x|^2) net(x)``: zero on the unit sphere."""

        def constrained(x):
            return (1.0 - x @ x) * net(x)

        return constrained
