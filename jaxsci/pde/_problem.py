"""The problem interface shared by the PINN family and the problem library.

A problem states ``R[u](x) = 0`` in the interior of a domain as a function of a few
linear differential operators applied to ``u``:

    R[u](x) = residual(x, u(x), (L_1[u](x), ..., L_k[u](x)))

so that any derivative backend of :mod:`jaxsci.taylor` can evaluate the ``L_j`` (exact or
stochastic) and the nonlinear part stays exact. Allen-Cahn ``Lap u + u - u^3 = g`` has one
operator (the Laplacian); Burgers ``u_t + u u_x - nu u_xx = 0`` has two (``u_t - nu u_xx``
and ``u_x``).
"""

from __future__ import annotations

import abc
from collections.abc import Callable

import equinox as eqx
import jax
from jaxtyping import Array, Float

from ..taylor import DifferentialOperator
from ._domain import AbstractDomain, _n_and_key


class PDEProblem(eqx.Module):
    """Base class for problems: subclasses set the fields and implement ``residual`` and
    ``solution``.

    Attributes:
        name: a short label used in tables.
        domain: where the PDE holds.
        operators: the linear differential operators ``L_j`` the residual needs; each acts
            on functions of R^``domain.dim``.

    ``hard_constraint`` (default: the network unchanged) and ``test_points`` (default:
    uniform points of the domain) may be overridden.

    Example:
        >>> from jaxsci import taylor
        >>> from jaxsci.pde import Ball
        >>> class Poisson(PDEProblem):
        ...     name: str = "Lap u = 2 d"
        ...     domain: Ball = Ball(2)
        ...     operators: tuple = (taylor.laplacian(2),)
        ...     def residual(self, x, u, derivatives):
        ...         return derivatives[0] - 4.0
        ...     def solution(self, x):
        ...         return x @ x
        >>> Poisson().test_points(3, key=jax.random.key(0)).shape
        (3, 2)
    """

    name: eqx.AbstractVar[str]
    domain: eqx.AbstractVar[AbstractDomain]
    operators: eqx.AbstractVar[tuple[DifferentialOperator, ...]]

    @property
    def dim(self) -> int:
        """The dimension of the points (space, plus time where there is one)."""
        return self.domain.dim

    @abc.abstractmethod
    def residual(
        self, x: Float[Array, " d"], u: Float[Array, ""], derivatives: tuple
    ) -> Float[Array, ""]:
        """``R[u](x)`` from ``u(x)`` and the values ``L_j[u](x)``."""

    @abc.abstractmethod
    def solution(self, x: Float[Array, " d"]) -> Float[Array, ""]:
        """The exact (or reference) solution at one point."""

    def hard_constraint(self, net: Callable) -> Callable:
        """Wrap a network so that it satisfies the boundary/initial conditions exactly.

        Problems without a natural distance function return ``net`` unchanged and use
        boundary losses instead.
        """
        if not callable(net):
            raise TypeError(f"`net` must be a callable x -> scalar, got {type(net).__name__}.")
        return net

    def test_points(self, n: int, *args, key: jax.Array | None = None) -> Float[Array, "n d"]:
        """The default test set: ``n`` uniform points of the domain."""
        n, key = _n_and_key(n, args, key, "test_points")
        return self.domain.sample(n, key=key)


def check_derivatives(problem: PDEProblem, derivatives) -> tuple:
    """The operator values given to ``residual``: one per operator of ``problem``."""
    if not isinstance(derivatives, (tuple, list)) or len(derivatives) != len(problem.operators):
        got = len(derivatives) if isinstance(derivatives, (tuple, list)) else type(derivatives).__name__
        raise ValueError(
            f"`derivatives` must be a tuple of {len(problem.operators)} values, one per operator "
            f"in `problem.operators` ({problem.name}), got {got}."
        )
    return tuple(derivatives)
