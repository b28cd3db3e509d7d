"""PINN losses as pure functions of (network, points, key)."""

from __future__ import annotations

from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from ..internal import check_key
from ..pde import PDEProblem
from ..taylor import AbstractBackend, Exact


def _check_points(points, dim: int, name: str = "points") -> None:
    if not hasattr(points, "shape") or points.ndim != 2 or points.shape[1] != dim:
        shape = getattr(points, "shape", type(points).__name__)
        raise ValueError(
            f"`{name}` must be an array of shape (n, {dim}) (n points of the problem's domain), "
            f"got {shape}."
        )
    if points.shape[0] == 0:
        raise ValueError(f"`{name}` is empty: pass at least one point.")


def _input_size(u) -> int | str | None:
    """The input size of the first ``eqx.nn.Linear`` inside ``u`` or its closure, if any."""
    candidates = [u]
    for cell in getattr(u, "__closure__", None) or ():
        try:
            candidates.append(cell.cell_contents)
        except ValueError:  # an empty cell
            continue
    is_linear = lambda m: isinstance(m, eqx.nn.Linear)
    for obj in candidates:
        for leaf in jax.tree_util.tree_leaves(obj, is_leaf=is_linear):
            if is_linear(leaf):
                return leaf.in_features
    return None


def _check_network(u: Callable, dim: int, dtype, name: str = "u", where: str = "the problem's") -> None:
    """``u`` must map one point of ``dim`` coordinates to a scalar (checked abstractly).

    ``name`` and ``where`` only shape the error messages (e.g. ``"net"``, ``"the domain's"``).
    """
    if not callable(u):
        raise TypeError(f"`{name}` must be a function of one point, got {type(u).__name__}.")
    try:
        out = jax.eval_shape(u, jax.ShapeDtypeStruct((dim,), dtype))
    except (TypeError, ValueError) as err:
        size = _input_size(u)
        if size is not None and size != dim:
            raise ValueError(
                f"the network takes {size} inputs but {where} points have {dim} "
                f"coordinates; build it with in_size={dim} (e.g. eqx.nn.MLP({dim}, 'scalar', ...))."
            ) from None
        raise ValueError(
            f"`{name}` cannot be evaluated at one point of {where} domain ({dim} coordinates): "
            f"{type(err).__name__}: {err}"
        ) from None
    if getattr(out, "shape", None) != ():
        raise ValueError(
            f"`{name}` must return a scalar at one point, got shape {getattr(out, 'shape', out)}; "
            "use out_size='scalar' for an eqx.nn.MLP."
        )


def pointwise_residuals(
    problem: PDEProblem,
    u: Callable,
    points: Float[Array, "n d"],
    backend: AbstractBackend | None = None,
    *,
    key: jax.Array | None = None,
    throw: bool = True,
) -> Float[Array, " n"]:
    """``R[u](x_i)`` at every point, each operator evaluated by ``backend``.

    Stochastic backends (e.g. ``taylor.SparseSTDE``) need ``key`` and get an independent
    key per point and per operator. With ``throw=True`` a NaN or infinity in ``points`` or
    in the residuals (a diverged network) raises, also under ``jax.jit``
    (``equinox.error_if``); with ``throw=False`` they pass through, so that a training loop
    (``pinn.train`` with ``throw=False``) can report a result code instead.

    Example:
        >>> from jaxsci import taylor
        >>> from jaxsci.pde.highdim import BallProblem
        >>> problem = BallProblem(3)
        >>> net = eqx.nn.MLP(3, "scalar", 8, 1, key=jax.random.key(0))
        >>> points = problem.domain.sample(5, key=jax.random.key(1))
        >>> pointwise_residuals(problem, problem.hard_constraint(net), points).shape
        (5,)
    """
    if not isinstance(problem, PDEProblem):
        raise TypeError(f"`problem` must be a jaxsci.pde.PDEProblem, got {type(problem).__name__}.")
    _check_points(points, problem.dim)
    backend = backend if backend is not None else Exact()
    if not isinstance(backend, AbstractBackend):
        raise TypeError(
            f"`backend` must be a jaxsci.taylor backend (e.g. taylor.SparseSTDE(16)), got "
            f"{type(backend).__name__}."
        )
    _check_network(u, problem.dim, points.dtype)
    n, num_ops = points.shape[0], len(problem.operators)
    if backend.stochastic:
        if key is None:
            raise TypeError("a stochastic backend needs a PRNG `key`: pass key=jax.random.key(seed).")
        key = check_key(key)
        keys = jax.random.split(key, n * num_ops).reshape(n, num_ops)
    else:
        if key is not None:
            key = check_key(key)
        keys = None
    if throw:
        points = eqx.error_if(
            points, ~jnp.all(jnp.isfinite(points)),
            "`points` contain NaN or inf; check the sampler and the domain's bounds.",
        )

    def at(x, point_keys):
        values, u_x = [], None
        for j, op in enumerate(problem.operators):
            k = None if point_keys is None else point_keys[j]
            u_x, value = backend(op, u, x, key=k)
            values.append(value)
        return problem.residual(x, u_x, tuple(values))

    if keys is None:
        residuals = jax.vmap(lambda x: at(x, None))(points)
    else:
        residuals = jax.vmap(at)(points, keys)
    if throw:
        residuals = eqx.error_if(
            residuals, ~jnp.all(jnp.isfinite(residuals)),
            "the PDE residual is NaN or inf at some points: the network's output or its "
            "derivatives are not finite (a diverged network, or NaN parameters); pass "
            "throw=False to let the training loop report it.",
        )
    return residuals


def residual_loss(
    problem: PDEProblem,
    u: Callable,
    points: Float[Array, "n d"],
    backend: AbstractBackend | None = None,
    *,
    key: jax.Array | None = None,
    unbiased: bool = False,
    throw: bool = True,
) -> Float[Array, ""]:
    """Mean squared PDE residual over ``points``.

    With ``unbiased=True`` (for stochastic backends) the square is replaced by the product
    of two independent draws, ``mean_i R_i(k1) R_i(k2)``, whose expectation is the squared
    exact residual (Shi, Hu, Lin, Kawaguchi, "Stochastic Taylor Derivative Estimator",
    NeurIPS 2024, Sec. 4.4); the plain mean square is biased upward by the estimator's
    variance. ``throw`` as in :func:`pointwise_residuals`.

    Example:
        >>> from jaxsci import taylor
        >>> from jaxsci.pde.highdim import BallProblem
        >>> problem = BallProblem(3)
        >>> net = eqx.nn.MLP(3, "scalar", 8, 1, key=jax.random.key(0))
        >>> points = problem.domain.sample(5, key=jax.random.key(1))
        >>> loss = residual_loss(problem, problem.hard_constraint(net), points,
        ...                      taylor.SparseSTDE(2), key=jax.random.key(2))
        >>> loss.shape
        ()
    """
    if unbiased:
        if key is None:
            raise TypeError("unbiased=True draws two independent estimates and needs a PRNG `key`.")
        key = check_key(key)
        k1, k2 = jax.random.split(key)
        r1 = pointwise_residuals(problem, u, points, backend, key=k1, throw=throw)
        r2 = pointwise_residuals(problem, u, points, backend, key=k2, throw=throw)
        return jnp.mean(r1 * r2)
    return jnp.mean(pointwise_residuals(problem, u, points, backend, key=key, throw=throw) ** 2)


def data_loss(u: Callable, points: Float[Array, "n d"], values: Float[Array, " n"]) -> Float[Array, ""]:
    """Mean squared mismatch ``mean (u(x_i) - values_i)^2``: boundary and initial losses.

    Example:
        >>> x = jnp.linspace(0.0, 1.0, 4)[:, None]
        >>> float(data_loss(lambda p: p[0], x, x[:, 0] + 1.0))
        1.0
    """
    if not hasattr(points, "ndim") or not hasattr(values, "shape"):
        raise TypeError("data_loss needs arrays: points (n, d) and values (n,).")
    if points.ndim != 2 or values.shape != points.shape[:1]:
        raise ValueError(
            f"data_loss needs points (n, d) and values (n,), got {points.shape} and {values.shape}."
        )
    if points.shape[0] == 0:
        raise ValueError("`points` is empty: pass at least one point.")
    return jnp.mean((jax.vmap(u)(points) - values) ** 2)


def hard_constrained(problem: PDEProblem, net: Callable) -> Callable:
    """The network wrapped by the problem's exact boundary/initial-condition ansatz.

    Example:
        >>> from jaxsci.pde.highdim import BallProblem
        >>> problem = BallProblem(3)
        >>> u = hard_constrained(problem, lambda x: jnp.ones(()))
        >>> float(u(jnp.array([1.0, 0.0, 0.0])))  # zero on the unit sphere
        0.0
    """
    if not isinstance(problem, PDEProblem):
        raise TypeError(f"`problem` must be a jaxsci.pde.PDEProblem, got {type(problem).__name__}.")
    return problem.hard_constraint(net)
