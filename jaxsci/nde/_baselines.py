"""Baseline regularizers of neural ODEs that do not look inside the solver.

- TayNODE (Kelly, Bettencourt, Johnson & Duvenaud, "Learning Differential Equations
  that are Easy to Solve", NeurIPS 2020, eq. (2)): R_K = int |d^K y / dt^K|^2 dt, the K-th
  total time derivative of the solution by Taylor-mode AD, integrated as an extra state.
- RNODE (Finlay, Jacobsen, Nurbekyan & Oberman, "How to train your neural ODE",
  ICML 2020, eq. (10)): int |f|^2 + |eps^T df/dy|^2 dt, kinetic energy plus a
  Hutchinson estimate of the Jacobian's Frobenius norm.
- STEER (Ghosh, Behl, Dupont, Torr & Namboodiri, "STEER: Simple Temporal Regularization
  for Neural ODEs", NeurIPS 2020): the end time drawn from U(t1 - b, t1 + b) each step.

The augmented fields map (t, (y, r)) to (f(t, y), penalty density) so that any
``NeuralODE`` solves them; r(t1) is the penalty. Penalty densities are means over the
state's entries, so weights do not depend on the batch size or the width.
"""

from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
from jax.experimental import jet
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray

from ..internal import check_key, check_positive, check_positive_int


def total_derivative(
    field: Callable, t: ArrayLike, y: Float[Array, "..."], order: int
) -> Float[Array, "..."]:
    """d^K y / dt^K along the solution of dy/dt = f(t, y) through (t, y), K = ``order``.

    Taylor-mode recursion (Griewank & Walther, Evaluating Derivatives, Sec. 13.3): with
    w = (y, t) and g(w) = (f(t, y), 1), w^(k+1) is the k-th derivative coefficient of
    g(w(s)), which one ``jax.experimental.jet`` call gives from w^(1..k).
    """
    check_positive_int(order, "order")
    t = jnp.asarray(t, y.dtype)

    def g(yy, tt):
        return field(tt, yy), jnp.ones_like(tt)

    derivs = [g(y, t)]  # derivs[k] = (y^(k+1), t^(k+1))
    for k in range(1, order):
        series_y = [d[0] for d in derivs]
        series_t = [d[1] for d in derivs]
        _, (out_y, out_t) = jet.jet(g, (y, t), (series_y, series_t))
        derivs.append((out_y[k - 1], out_t[k - 1]))
    return derivs[order - 1][0]


class TayNODEField(eqx.Module):
    """(t, (y, r)) -> (f(t, y), mean |d^K y/dt^K|^2): TayNODE's augmented dynamics."""

    field: Callable
    order: int = eqx.field(static=True)

    def __check_init__(self):
        check_positive_int(self.order, "order")

    def __call__(self, t, state):
        y, _ = state
        dk = total_derivative(self.field, t, y, self.order)
        return self.field(t, y), jnp.mean(dk**2)


class RNODEField(eqx.Module):
    """(t, (y, r)) -> (f, mean |f|^2 + mean |eps^T df/dy|^2): RNODE's augmented dynamics.

    ``eps`` is one Gaussian probe (the state's shape), drawn fresh per solve.
    """

    field: Callable
    eps: Array

    def __call__(self, t, state):
        y, _ = state
        f, vjp = jax.vjp(lambda yy: self.field(t, yy), y)
        (eps_j,) = vjp(self.eps)
        return f, jnp.mean(f**2) + jnp.mean(eps_j**2)


def rnode_field(field: Callable, y_like: Array, *, key: PRNGKeyArray) -> RNODEField:
    """RNODE's augmented field with a fresh Hutchinson probe shaped like ``y_like``.

    Example:
        >>> aug = rnode_field(lambda t, y: -y, jnp.ones(3), key=jax.random.key(0))
        >>> f, density = aug(0.0, (jnp.ones(3), jnp.zeros(())))
        >>> f.shape, density.shape
        ((3,), ())
    """
    key = check_key(key)
    return RNODEField(field, jax.random.normal(key, jnp.shape(y_like), jnp.result_type(y_like)))


def steer_end_time(t1: ArrayLike, half_width: float, *, key: PRNGKeyArray) -> Float[Array, ""]:
    """STEER's training end time, uniform on (t1 - b, t1 + b) with b = ``half_width``.

    Example:
        >>> t = steer_end_time(1.0, 0.25, key=jax.random.key(0))
        >>> bool(0.75 <= t <= 1.25)
        True
    """
    key = check_key(key)
    check_positive(half_width, "half_width")
    t1 = jnp.asarray(t1, jnp.result_type(float))
    return jax.random.uniform(key, (), t1.dtype, t1 - half_width, t1 + half_width)
