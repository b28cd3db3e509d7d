"""Budget mode: the regularization weight as a Lagrange multiplier adapted during training.

The user states a constraint instead of a weight: an NFE target ("the solve should cost
at most N evaluations") or an allowed task loss ("the fit may rise to L"). Training then
solves min_theta max_{lambda >= 0} L(theta) + lambda (c(theta) / target - 1) by
simultaneous gradient descent on theta and dual ascent on lambda (Arrow, Hurwicz & Uzawa,
Studies in Linear and Non-linear Programming, 1958; Platt & Barr, "Constrained
Differential Optimization", NeurIPS 1987). The multiplier is kept in log space,
lambda = exp(s), so it stays positive and moves by factors, and the step on s is

    s <- s + eta (c / target - 1)     (NFE target: c the measured NFE)
    s <- s + eta (1 - c / target)     (allowed loss: c the task loss; the weight grows
                                       while the fit has room to spare)

The constraint is measured (the NFE is an integer count, not differentiable) while the
differentiable penalty R (R_E, R_S, a local penalty, ...) is what the weight multiplies.
The multiplier lives in the model as ``BudgetWeight`` and its step is the gradient of a
term of value zero, so the one training loop ``jaxsci.core.fit`` runs it unchanged:
``budget_optimizer`` routes that leaf to plain SGD with the dual step size.
"""

from __future__ import annotations

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import optax
from jaxtyping import Array, ArrayLike, Float

from ..internal import check_one_of, check_positive

_LOG_BOUND = 30.0


class BudgetWeight(eqx.Module):
    """A regularization weight adapted by dual ascent to meet a stated target.

    Args:
        target: the NFE target (``kind="nfe"``) or the allowed task loss
            (``kind="loss"``), > 0.
        kind: ``"nfe"`` or ``"loss"``.
        initial_weight: lambda at the start (> 0); the dual step moves it by factors of
            ``exp(eta)`` per step at most-violated, so a start a few orders of magnitude
            off costs a few hundred steps.
        max_weight: a cap on lambda (> ``initial_weight``), or ``None`` for none. A target
            the model cannot reach (e.g. an NFE below what the solver can take on the
            data) makes dual ascent grow lambda without bound and the penalty swamp the
            task; with a cap the ascent stops at ``max_weight`` (projected dual ascent:
            the step that would raise ``s`` past ``log(max_weight)`` is dropped) and
            ``saturated`` tells that the target was not met at the capped weight.
        min_weight: a floor on lambda (<= ``initial_weight``), or ``None`` for none. While
            the constraint is slack (e.g. an untrained model that is cheaper than the
            target, its cost growing as it learns), dual ascent lowers lambda by a factor
            ``exp(eta (c / target - 1))`` per step, down to ``exp(-30)``; when the cost
            later passes the target, climbing back takes as many steps again, and the
            penalty acts too late (the stiff neural ODE of ``benchmarks/nde_stiff.py``
            ended at 1e-7 with its NFE over the target). A floor bounds that wind-down
            (projected dual ascent onto ``[min_weight, max_weight]``).

    Use ``weight(penalty, measured)`` in the loss and train with
    ``fit(loss, model, budget_optimizer(optax.adam(lr)), ...)``, the model holding the
    ``BudgetWeight`` (e.g. as a tuple ``(field, budget)``).

    Example:
        >>> budget = BudgetWeight(target=40.0)
        >>> float(budget(jnp.asarray(2.0), jnp.asarray(50.0)))  # lambda * R, lambda = 1
        2.0
        >>> g = jax.grad(lambda b: b(jnp.asarray(2.0), jnp.asarray(50.0)))(budget)
        >>> float(g.log_weight)  # minus the step direction: NFE 25% over the target
        -0.25
    """

    log_weight: Float[Array, ""]
    target: float = eqx.field(static=True)
    kind: str = eqx.field(static=True)
    log_max: float = eqx.field(static=True)
    log_min: float = eqx.field(static=True)

    def __init__(self, target: float, *, kind: str = "nfe", initial_weight: float = 1.0,
                 max_weight: float | None = None, min_weight: float | None = None):
        check_one_of(kind, ("nfe", "loss"), "kind")
        numbers = [("target", target), ("initial_weight", initial_weight)]
        if max_weight is not None:
            numbers.append(("max_weight", max_weight))
        if min_weight is not None:
            numbers.append(("min_weight", min_weight))
        for name, value in numbers:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise TypeError(
                    f"`{name}` must be a positive number (a Python float), got "
                    f"{type(value).__name__} {value!r}."
                )
            if not math.isfinite(value) or value <= 0:
                raise ValueError(f"`{name}` must be a positive finite number, got {value!r}.")
        if max_weight is not None and max_weight <= initial_weight:
            raise ValueError(
                f"`max_weight` ({max_weight!r}) must be larger than `initial_weight` "
                f"({initial_weight!r}); pass max_weight=None for no cap."
            )
        if min_weight is not None and min_weight > initial_weight:
            raise ValueError(
                f"`min_weight` ({min_weight!r}) must not exceed `initial_weight` "
                f"({initial_weight!r}); pass min_weight=None for no floor."
            )
        self.target = float(target)
        self.kind = kind
        self.log_max = _LOG_BOUND if max_weight is None else min(math.log(max_weight), _LOG_BOUND)
        self.log_min = -_LOG_BOUND if min_weight is None else max(math.log(min_weight), -_LOG_BOUND)
        self.log_weight = jnp.log(jnp.asarray(initial_weight, jnp.result_type(float)))

    @property
    def value(self) -> Float[Array, ""]:
        """The current weight lambda = exp(s) (a constant under autodiff)."""
        s = jax.lax.stop_gradient(self.log_weight)
        return jnp.exp(jnp.clip(s, self.log_min, self.log_max))

    @property
    def saturated(self) -> Array:
        """Whether lambda sits at its cap (``max_weight``): the target was not reached."""
        return jax.lax.stop_gradient(self.log_weight) >= self.log_max

    def __call__(self, penalty: ArrayLike, measured: ArrayLike) -> Float[Array, ""]:
        """lambda R plus a term of value 0 whose gradient in s is the dual step's minus.

        Args:
            penalty: the differentiable regularizer R (e.g. ``sol.heuristics.error``).
            measured: the constraint's measured value: the NFE (mean over a batch) for
                ``kind="nfe"``, the task loss for ``kind="loss"``; treated as a constant.
        """
        penalty = jnp.asarray(penalty)
        measured = jax.lax.stop_gradient(jnp.mean(jnp.asarray(measured)))
        if self.kind == "nfe":
            # An implicit NeuralODE solve reports nfe = -1 (unknown) inside jit; fed here it
            # would drive the weight down for ever.
            message = (
                "BudgetWeight(kind='nfe') got a negative measured NFE: an implicit solver's "
                "uncounted solve reports nfe=-1 (its Newton iterations are not known inside "
                "jit). Budget on its steps instead: BudgetWeight(target_steps)(penalty, "
                "sol.num_steps), or use kind='loss'."
            )
            if not isinstance(measured, jax.core.Tracer):
                if float(measured) < 0:
                    raise ValueError(message)
            else:
                measured = eqx.error_if(measured, measured < 0, message)
        ratio = measured.astype(self.log_weight.dtype) / self.target
        slack = ratio - 1.0 if self.kind == "nfe" else 1.0 - ratio
        s = self.log_weight
        # projected ascent: no step up past the cap, none down past the floor
        s0 = jax.lax.stop_gradient(s)
        blocked = ((s0 >= self.log_max) & (slack > 0)) | ((s0 <= self.log_min) & (slack < 0))
        slack = jnp.where(blocked, 0.0, slack)
        dual = (s - s0) * (-slack)
        return self.value.astype(penalty.dtype) * penalty + dual.astype(penalty.dtype)


def _labels(params):
    return jax.tree_util.tree_map(
        lambda x: "dual" if isinstance(x, BudgetWeight) else "primal",
        params,
        is_leaf=lambda x: isinstance(x, BudgetWeight),
    )


def budget_optimizer(
    optimizer: optax.GradientTransformation, dual_learning_rate: float = 0.5
) -> optax.GradientTransformation:
    """``optimizer`` for the model, plain SGD with ``dual_learning_rate`` (eta) for every
    ``BudgetWeight`` in it: s <- s + eta * slack, the dual ascent step.

    The default 0.5 was chosen on pilot seeds of the spiral fit of
    ``benchmarks/nde_experiments.py`` and confirmed on the digits classifier and the latent
    ODE (``benchmarks/RESULTS.md``, "Budget mode's dual step"). With 0.05 the multiplier
    lagged, and the spiral's final NFE ended 14% under its target. A smaller step moves
    lambda more smoothly. A larger one tracks a target more closely, and can overshoot
    where the cost emerges late in training.

    Example:
        >>> opt = budget_optimizer(optax.adam(1e-3))
        >>> state = opt.init((jnp.zeros(2), BudgetWeight(target=10.0)))
    """
    if not isinstance(optimizer, optax.GradientTransformation):
        raise TypeError(
            f"`optimizer` must be an optax GradientTransformation (e.g. optax.adam(1e-3)), "
            f"got {type(optimizer).__name__}."
        )
    check_positive(dual_learning_rate, "dual_learning_rate")
    return optax.multi_transform(
        {"primal": optimizer, "dual": optax.sgd(dual_learning_rate)}, _labels
    )
