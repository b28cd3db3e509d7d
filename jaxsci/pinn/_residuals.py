"""Pointwise residual terms for :class:`jaxsci.core.ResidualLoss`: the PDE residual in the
interior and boundary conditions on the boundary, each ``(model, x, key) -> scalar``."""

from __future__ import annotations

from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from ..pde import PDEProblem
from ..taylor import AbstractBackend, Exact


class PDEResidual(eqx.Module):
    """``R[u](x)`` of a :class:`jaxsci.pde.PDEProblem` at one point, each operator by
    ``backend`` (exact or stochastic), as a residual term of a
    :class:`jaxsci.core.ResidualLoss`. With ``hard_constraint=True`` the network is wrapped
    by the problem's ansatz (``problem.hard_constraint``) first.

    A stochastic backend needs the key ``ResidualLoss`` passes (one per point); the operators
    get ``jax.random.split(key, len(problem.operators))``.

    Example:
        >>> from jaxsci import core
        >>> from jaxsci.pde.highdim import BallProblem
        >>> problem = BallProblem(2, "two_body", "poisson")
        >>> loss = core.ResidualLoss(PDEResidual(problem))
        >>> u = lambda x: (1.0 - x @ x) * x[0]
        >>> eqx.filter_jit(loss)(u, jnp.zeros((1, 2))).shape
        ()
    """

    problem: PDEProblem
    backend: AbstractBackend = Exact()
    hard_constraint: bool = eqx.field(static=True, default=False)

    def __check_init__(self):
        if not isinstance(self.problem, PDEProblem):
            raise TypeError(f"`problem` must be a jaxsci.pde.PDEProblem, got {type(self.problem).__name__}.")
        if not isinstance(self.backend, AbstractBackend):
            raise TypeError(
                "`backend` must be a jaxsci.taylor backend (e.g. taylor.Exact(), "
                f"taylor.SparseSTDE(16)), got {type(self.backend).__name__}."
            )
        if not isinstance(self.hard_constraint, bool):
            raise TypeError(f"`hard_constraint` must be True or False, got {self.hard_constraint!r}.")

    def __call__(self, model: Callable, x: Float[Array, " d"], *, key: Array | None = None) -> Float[Array, ""]:
        u = self.problem.hard_constraint(model) if self.hard_constraint else model
        ops = self.problem.operators
        if self.backend.stochastic:
            if key is None:
                raise TypeError("a stochastic backend needs a PRNG `key`: give core.fit a key.")
            keys = jax.random.split(key, len(ops))
        else:
            keys = [None] * len(ops)
        values, u_x = [], None
        for op, k in zip(ops, keys):
            u_x, value = self.backend(op, u, x, key=k)
            values.append(value)
        return self.problem.residual(x, u_x, tuple(values))


class DirichletBC(eqx.Module):
    """The Dirichlet residual ``u(x) - g(x)`` at a boundary point, a residual term of a
    :class:`jaxsci.core.ResidualLoss`.

    Example:
        >>> bc = DirichletBC(lambda x: x[0] ** 2)
        >>> float(bc(lambda x: x[0], jnp.array([2.0])))
        -2.0
    """

    value: Callable[[Array], Array]

    def __check_init__(self):
        if not callable(self.value):
            raise TypeError(f"`value` must be a callable x -> scalar, got {type(self.value).__name__}.")

    def __call__(self, model: Callable, x: Float[Array, " d"], *, key: Array | None = None) -> Float[Array, ""]:
        return model(x) - self.value(x)


class NeumannBC(eqx.Module):
    """The Neumann residual ``grad u(x) . n(x) - g(x)`` at a boundary point, with ``n`` the
    outward normal (e.g. ``geometry.normal`` of :mod:`jaxsci.pde.geometry`).

    Example:
        >>> from jaxsci.pde.geometry import Disk
        >>> bc = NeumannBC(Disk([0.0, 0.0], 1.0).normal, lambda x: jnp.ones(()))
        >>> float(bc(lambda x: 0.5 * x @ x, jnp.array([0.6, 0.8])))  # d/dr (r^2 / 2) - 1 = 0
        0.0
    """

    normal: Callable[[Array], Array]
    value: Callable[[Array], Array]

    def __check_init__(self):
        for name in ("normal", "value"):
            if not callable(getattr(self, name)):
                raise TypeError(f"`{name}` must be a callable of one point, got "
                                f"{type(getattr(self, name)).__name__}.")

    def __call__(self, model: Callable, x: Float[Array, " d"], *, key: Array | None = None) -> Float[Array, ""]:
        return jax.grad(model)(x) @ self.normal(x) - self.value(x)


class PeriodicBC(eqx.Module):
    """The periodicity residual ``u(x) - u(x + shift)`` (``x`` on one face, ``x + shift`` on
    the opposite one), e.g. ``shift = (2, 0)`` for period 2 in the first coordinate.

    Example:
        >>> bc = PeriodicBC((2.0, 0.0))
        >>> float(bc(lambda x: jnp.cos(jnp.pi * x[0]) + x[1], jnp.array([-1.0, 0.3])))
        0.0
    """

    shift: tuple[float, ...] = eqx.field(static=True)

    def __check_init__(self):
        if not isinstance(self.shift, tuple) or not self.shift or not all(
                isinstance(s, (int, float)) and not isinstance(s, bool) for s in self.shift):
            raise TypeError(f"`shift` must be a tuple of numbers, got {self.shift!r}.")

    def __call__(self, model: Callable, x: Float[Array, " d"], *, key: Array | None = None) -> Float[Array, ""]:
        if x.shape != (len(self.shift),):
            raise ValueError(f"PeriodicBC with a shift of {len(self.shift)} coordinates got a point of shape {x.shape}.")
        return model(x) - model(x + jnp.asarray(self.shift, x.dtype))
