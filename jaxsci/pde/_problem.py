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

from collections.abc import Callable

import equinox as eqx
import jax
from jaxtyping import Array, Float

from ..taylor import DifferentialOperator
from ._domain import AbstractDomain


class PDEProblem(eqx.Module):
    """Base class for problems; subclasses define the fields and the abstract methods.

    Attributes:
        name: a short label used in tables.
        domain: where the PDE holds.
        operators: the linear differential operators ``L_j`` the residual needs.
    """

    name: eqx.AbstractVar[str]
    domain: eqx.AbstractVar[AbstractDomain]
    operators: eqx.AbstractVar[tuple[DifferentialOperator, ...]]

    @property
    def dim(self) -> int:
        return self.domain.dim

    def residual(self, x: Float[Array, " d"], u: Float[Array, ""], derivatives: tuple) -> Float[Array, ""]:
        """``R[u](x)`` from ``u(x)`` and the values ``L_j[u](x)``."""
        raise NotImplementedError

    def solution(self, x: Float[Array, " d"]) -> Float[Array, ""]:
        """The exact (or reference) solution at one point."""
        raise NotImplementedError(f"{self.name} has no exact or reference solution.")

    def hard_constraint(self, net: Callable) -> Callable:
        """Wrap a network so that it satisfies the boundary/initial conditions exactly.

        Problems without a natural distance function return ``net`` unchanged and use
        boundary losses instead.
        """
        return net

    def test_points(self, key: jax.Array, n: int) -> Float[Array, "n d"]:
        """The default test set: uniform points of the domain."""
        return self.domain.sample(key, n)
