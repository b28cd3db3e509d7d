"""Learned step grids: the sampler's time grid fitted to a model on training start-noises.

A few-step sampler's error depends strongly on where its steps fall (Lu et al., DPM-Solver,
NeurIPS 2022, Sec. 3.3; Karras et al., NeurIPS 2022, Sec. 3). Every jaxsci sampler is a
differentiable function of its grid, so the grid can be fitted by gradient descent on the
endpoint error against a tight-tolerance solve of the same model's probability-flow ODE
(the objective of the learned-schedule methods, e.g. Liu et al., USF / S^3, ICLR 2024,
Sec. 4; Sabour et al., "Align your steps", ICML 2024, optimize the same grid for a KL bound
instead). Its quality is judged on start-noises the fit never saw.

``LearnedGrid`` parametrizes a grid of ``n`` steps by ``n`` logits ``w``: with
``p = (1 - delta) softmax(w) + delta / n`` the log-SNRs are

    lambda_0 = lambda(t_start),   lambda_i = lambda_0 + (lambda(t_end) - lambda_0) sum_{j < i} p_j,

so the grid is strictly decreasing in ``t`` and inside ``[t_end, t_start]`` for every value of
the logits (each step spans at least ``delta / n`` of the log-SNR range); logits of zero are
the ``"logSNR"`` grid of :func:`time_grid`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray

from ..core import RESULTS, fit
from ..internal import check_key, check_positive_int
from ._grid import _check_schedule, validate_grid
from ._inputs import float_input
from ._sample import AbstractSampler
from ._schedule import AbstractSchedule

GRID_FORMAT = "jaxsci.diffusion.grid/1"


class LearnedGrid(eqx.Module):
    """A step grid with learnable spacing in log-SNR (the module docstring gives the map).

    Attributes:
        logits: one per step; the only array leaf (what ``fit_grid`` trains).
        t_start, t_end: the grid's ends (static floats; ``t_start > t_end``).
        min_fraction: ``delta``, in ``[0, 1)``: every step spans at least ``delta / n`` of
            the log-SNR range, which keeps the grid strictly decreasing in float32 too.

    Build one with :meth:`from_grid` (any strictly decreasing grid, e.g. from
    :func:`time_grid`) and read it with :meth:`times`.

    Example:
        >>> from jaxsci import diffusion as D
        >>> s = D.VPLinear()
        >>> learned = D.LearnedGrid.from_grid(s, D.time_grid(s, 5, "logSNR"))
        >>> bool(jnp.allclose(learned.times(s), D.time_grid(s, 5, "logSNR"), rtol=1e-4))
        True
    """

    logits: Float[Array, " n"]
    t_start: float = eqx.field(static=True)
    t_end: float = eqx.field(static=True)
    min_fraction: float = eqx.field(static=True, default=1e-3)

    def __check_init__(self):
        if not (math.isfinite(self.t_start) and math.isfinite(self.t_end) and self.t_start > self.t_end):
            raise ValueError(f"LearnedGrid needs finite ends with t_start > t_end, got "
                             f"t_start={self.t_start}, t_end={self.t_end}.")
        if not (0.0 <= self.min_fraction < 1.0):
            raise ValueError(f"`min_fraction` must lie in [0, 1), got {self.min_fraction!r}.")
        if jnp.ndim(self.logits) != 1 or jnp.shape(self.logits)[0] < 1:
            raise ValueError(f"`logits` must be a 1-D array with one entry per step, got shape "
                             f"{jnp.shape(self.logits)}.")

    @classmethod
    def from_grid(cls, schedule: AbstractSchedule, grid: Float[ArrayLike, " n+1"], *,
                  min_fraction: float = 1e-3) -> LearnedGrid:
        """The ``LearnedGrid`` whose :meth:`times` is ``grid`` (to rounding, and as long as
        each of its steps spans more than ``min_fraction / n`` of the log-SNR range; smaller
        steps are widened to that). ``grid`` must be concrete (not traced)."""
        _check_schedule(schedule)
        grid = validate_grid(schedule, grid)
        if isinstance(grid, jax.core.Tracer):
            raise TypeError("LearnedGrid.from_grid needs a concrete grid (call it outside jit).")
        g = np.asarray(grid, np.float64)
        lam = np.asarray(schedule.lambda_(jnp.asarray(g)), np.float64)
        if not np.all(np.isfinite(lam)):
            raise ValueError(
                f"LearnedGrid spaces the grid in log-SNR, which is infinite at the grid's ends "
                f"{g[0]} / {g[-1]} for {type(schedule).__name__}: start from a grid strictly inside "
                "(t_min, t_max) where alpha and sigma are both > 0."
            )
        n = g.shape[0] - 1
        fractions = np.diff(lam) / (lam[-1] - lam[0])
        softmax = np.maximum((fractions - min_fraction / n) / (1.0 - min_fraction), 1e-12)
        logits = np.log(softmax)
        return cls(jnp.asarray(logits - logits.mean(), grid.dtype), float(g[0]), float(g[-1]),
                   min_fraction)

    @property
    def num_steps(self) -> int:
        return int(jnp.shape(self.logits)[0])

    def times(self, schedule: AbstractSchedule) -> Float[Array, " n+1"]:
        """The grid: ``num_steps + 1`` strictly decreasing times from ``t_start`` to ``t_end``."""
        _check_schedule(schedule)
        dtype = self.logits.dtype
        lam_start = jnp.asarray(schedule.lambda_(jnp.asarray(self.t_start, dtype)), dtype)
        lam_end = jnp.asarray(schedule.lambda_(jnp.asarray(self.t_end, dtype)), dtype)
        n = self.num_steps
        p = (1.0 - self.min_fraction) * jax.nn.softmax(self.logits) + self.min_fraction / n
        cumulative = jnp.concatenate([jnp.zeros((1,), dtype), jnp.cumsum(p)])
        grid = schedule.inverse_lambda(lam_start + (lam_end - lam_start) * cumulative).astype(dtype)
        return grid.at[0].set(self.t_start).at[-1].set(self.t_end)


class GridFit(eqx.Module):
    """What :func:`fit_grid` returns.

    Attributes:
        grid: the learned times (``num_steps + 1``, strictly decreasing): those of the
            iterate with the lowest training MSE among the ones checked (after every
            ``check_every`` steps, and the start).
        learned: the :class:`LearnedGrid` of ``grid``.
        initial_grid: the grid the fit started from.
        training_mse: the mean squared endpoint error of ``grid`` on all the training
            start-noises; ``initial_training_mse`` that of ``initial_grid``.
        best_step: the step ``grid`` was taken at (0: no iterate beat the start).
        losses: the training loss (minibatch MSE) of every step.
        result: the training's :class:`jaxsci.core.RESULTS` code.
    """

    grid: Float[Array, " n+1"]
    learned: LearnedGrid
    initial_grid: Float[Array, " n+1"]
    training_mse: float
    initial_training_mse: float
    best_step: int
    losses: np.ndarray
    result: RESULTS


def endpoint_mse(sampler: AbstractSampler, model: Callable, schedule: AbstractSchedule,
                 x_T: Float[Array, " batch *shape"], reference: Float[Array, " batch *shape"],
                 grid: Float[ArrayLike, " n+1"], *, key: PRNGKeyArray | None = None) -> Float[Array, ""]:
    """The mean squared endpoint error ``mean((sampler(x_T) - reference)^2)`` over a batch
    (every sample and coordinate), the quality figure a learned grid is fitted to and judged
    by (``reference``: e.g. :func:`probability_flow_reference` of the same ``x_T``). ``key``:
    for stochastic samplers, split over the batch."""
    keys = None if key is None else jax.random.split(key, x_T.shape[0])
    if keys is None:
        out = jax.vmap(lambda x: sampler(model, schedule, x, grid).x)(x_T)
    else:
        out = jax.vmap(lambda x, k: sampler(model, schedule, x, grid, key=k).x)(x_T, keys)
    return jnp.mean((out - reference) ** 2)


def fit_grid(sampler: AbstractSampler, model: Callable, schedule: AbstractSchedule,
             x_T: Float[Array, " batch *shape"], reference: Float[Array, " batch *shape"],
             initial_grid: Float[ArrayLike, " n+1"], *, key: PRNGKeyArray, steps: int = 200,
             optimizer: optax.GradientTransformation | None = None, batch_size: int | None = None,
             check_every: int = 20, min_fraction: float = 1e-3, progress: bool = False) -> GridFit:
    """Fit the step grid of a deterministic ``sampler`` to ``model`` by minimising the mean
    squared endpoint error on training start-noises ``x_T`` against ``reference`` (their
    tight-tolerance probability-flow endpoints), with the one training loop
    :func:`jaxsci.core.fit`. The grid keeps ``initial_grid``'s number of steps and ends.
    It is a training loop run from Python (call it outside ``jit``); what it fits,
    :meth:`LearnedGrid.times` and :func:`endpoint_mse`, works under ``jit``, ``vmap`` and
    ``grad``.

    Args:
        sampler: any deterministic jaxsci sampler (its NFE per step is unchanged).
        model: ``model(x, t)`` in the sampler's parametrization.
        x_T, reference: training start-noises and their reference endpoints (same shape, a
            leading batch axis). Judge the result on other start-noises.
        initial_grid: where the fit starts (e.g. ``time_grid(schedule, n, "logSNR")``).
        key: PRNG key (keyword-only) for the minibatches.
        steps: optimizer steps.
        optimizer: default Adam on the logits with a cosine-decayed step from 0.05 to 0.
        batch_size: start-noises per step (default: all of them every step).
        check_every: steps between evaluations of the MSE on every training start-noise;
            the grid returned is the best one so evaluated (the minibatch loss is noisy, and
            the last iterate need not be the best).
        min_fraction: see :class:`LearnedGrid`.
        progress: print ``core.fit``'s progress lines.

    Example:
        >>> from jaxsci import diffusion as D
        >>> s = D.VPLinear(); mix = D.GaussianMixture.random(4, 2, key=jax.random.key(0))
        >>> x_T = jax.random.normal(jax.random.key(1), (32, 2))
        >>> ref = jax.vmap(lambda x: mix.flow_endpoint(s, x, s.t_max, s.t_min))(x_T)
        >>> out = D.fit_grid(D.DPMSolverPP(order=2), mix.noise_model(s), s, x_T, ref,
        ...                  D.time_grid(s, 4), steps=20, key=jax.random.key(2))
        >>> out.grid.shape
        (5,)
    """
    if not isinstance(sampler, AbstractSampler):
        raise TypeError(f"`sampler` must be a jaxsci.diffusion sampler (e.g. DPMSolverPP(order=2)), "
                        f"got {type(sampler).__name__}.")
    if not callable(model):
        raise TypeError(f"`model` must be a callable model(x, t), got {type(model).__name__}.")
    _check_schedule(schedule)
    check_key(key, "key")
    check_positive_int(steps, "steps")
    x_T = float_input(x_T, "x_T")
    reference = float_input(reference, "reference")
    if x_T.ndim < 1 or x_T.shape != reference.shape:
        raise ValueError(f"`x_T` and `reference` must have the same shape with a leading batch axis, "
                         f"got {x_T.shape} and {reference.shape}.")
    if not bool(jnp.all(jnp.isfinite(reference))):
        raise ValueError("`reference` holds NaN/inf: every reference endpoint must be finite.")
    batch = x_T.shape[0]
    if batch_size is not None:
        check_positive_int(batch_size, "batch_size")
        if batch_size > batch:
            raise ValueError(f"`batch_size` ({batch_size}) exceeds the {batch} training start-noises.")
    check_positive_int(check_every, "check_every")
    if optimizer is None:
        optimizer = optax.adam(optax.cosine_decay_schedule(0.05, steps))
    if not isinstance(optimizer, optax.GradientTransformation):
        raise TypeError(f"`optimizer` must be an optax GradientTransformation, got {type(optimizer).__name__}.")
    initial = LearnedGrid.from_grid(schedule, initial_grid, min_fraction=min_fraction)
    initial = eqx.tree_at(lambda g: g.logits, initial, initial.logits.astype(x_T.dtype))

    def loss(learned, data, key):
        xs, refs = data
        if batch_size is not None:
            idx = jax.random.choice(key, batch, (batch_size,), replace=False)
            xs, refs = xs[idx], refs[idx]
        return endpoint_mse(sampler, model, schedule, xs, refs, learned.times(schedule))

    training_mse = eqx.filter_jit(lambda learned: endpoint_mse(
        sampler, model, schedule, x_T, reference, learned.times(schedule)))
    out = fit(loss, initial, optimizer, steps=steps, key=key, data=(x_T, reference),
              chunk=min(check_every, steps), evaluate=training_mse, keep_best=True,
              progress=progress, desc="fit_grid", throw=False)
    initial_mse = float(training_mse(initial))
    best_mse = float(np.asarray(out.best_error)) if out.best_model is not None else math.inf
    if best_mse < initial_mse:
        learned, best_step = out.best_model, int(np.asarray(out.best_step))
    else:
        learned, best_mse, best_step = initial, initial_mse, 0
    return GridFit(learned.times(schedule), learned, initial.times(schedule), best_mse,
                   initial_mse, best_step, np.asarray(out.losses), out.result)


def save_grid(path: str | Path, grid: Float[ArrayLike, " n+1"], *, schedule: AbstractSchedule,
              sampler: AbstractSampler | None = None, overwrite: bool = False,
              **metadata) -> Path:
    """Write a grid (e.g. ``fit_grid(...).grid``) to a JSON file with the schedule it was made
    for, the sampler and any ``metadata`` (JSON-serializable), the times at float64 precision.
    An existing file is refused unless ``overwrite=True``. Returns the path.

    Example:
        >>> import tempfile, os
        >>> from jaxsci import diffusion as D
        >>> s = D.VPLinear(); path = os.path.join(tempfile.mkdtemp(), "grid.json")
        >>> _ = D.save_grid(path, D.time_grid(s, 5), schedule=s)
        >>> D.load_grid(path, schedule=s).shape
        (6,)
    """
    path = Path(path)
    grid = np.asarray(validate_grid(schedule, grid), np.float64)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; pass overwrite=True to replace it.")
    record = dict(format=GRID_FORMAT, times=[float(t) for t in grid], num_steps=len(grid) - 1,
                  schedule=repr(schedule), sampler=None if sampler is None else repr(sampler),
                  metadata=metadata)
    try:
        text = json.dumps(record, indent=1)
    except TypeError as error:
        raise TypeError(f"save_grid: the metadata must be JSON-serializable ({error}).") from None
    path.write_text(text)
    return path


def load_grid(path: str | Path, *, schedule: AbstractSchedule | None = None) -> Float[Array, " n+1"]:
    """Read a grid written by :func:`save_grid`. With ``schedule``, the file must have been
    written for an equal schedule (compared by ``repr``) and the grid is validated for it."""
    path = Path(path)
    try:
        record = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise ValueError(f"{path} is not a grid file written by save_grid ({error}).") from None
    if not isinstance(record, dict) or record.get("format") != GRID_FORMAT:
        raise ValueError(f"{path} is not a grid file written by save_grid (no format "
                         f"{GRID_FORMAT!r}).")
    grid = jnp.asarray(np.asarray(record["times"], np.float64), jnp.result_type(float))
    if schedule is not None:
        if record["schedule"] != repr(schedule):
            raise ValueError(f"{path} holds a grid for {record['schedule']}, not for {schedule!r}: "
                             "a grid is tied to the schedule it was fitted on (pass schedule=None "
                             "to read it anyway).")
        grid = validate_grid(schedule, grid)
    return grid
