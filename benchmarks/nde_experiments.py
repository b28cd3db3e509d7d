"""Small, self-contained experiments for solver-heuristic regularization (benchmarks only).

    python -m benchmarks.nde_experiments [EXPERIMENT METHOD [STEPS]]

(from the repository root; ``benchmarks/nde_regularization.py`` runs them all).

Each experiment trains one neural differential equation with one regularization
method and reports test quality, training time, NFE per test prediction and prediction
time, so that methods compare side by side (Pal et al., ICML 2021, Tables 1-3; Pal et al.,
ICML 2023, Tables 1-2). Every run trains through ``jaxsci.core.fit``. The data either
ships with a package (scikit-learn's 8x8 digits, which this module needs) or is synthetic:

- ``digits``: a neural ODE classifier, 64 -> 16 (linear) -> ODE on [0, 1] -> 10.
- ``spiral``: fitting the cubic spiral dy/dt = A y^3 (Chen et al., NeurIPS 2018) from
  noisy observations; test loss against the clean trajectory at unseen times.
- ``sde``: a neural SDE fitted to an Ornstein-Uhlenbeck process by matching the mean and
  standard deviation of sample paths.
- ``latent``: a latent ODE (Rubanova, Chen, Duvenaud, NeurIPS 2019) on irregularly
  sampled series, physionet-style: damped oscillators observed at a random 30% of 40
  common times, each series with its own mask; an encoder of the observed first half
  gives the latent state, a neural ODE in 4 latent dimensions decodes every time
  (interpolation and extrapolation); test MSE against the clean series at all times.

Methods: ``unregularized``, ``error`` (R_E), ``stiffness`` (R_S), ``local-unbiased``,
``local-biased``, ``taynode`` (K = 2), ``steer``, ``rnode``, ``budget`` (R_E with its weight
adapted by dual ascent to the NFE target ``Settings.budget_nfe``: ``nde.BudgetWeight``).
"""

import dataclasses
import functools
import math
import sys
import time
from collections.abc import Callable

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxsci.core import fit
from jaxsci.nde import (
    BudgetWeight,
    NeuralODE,
    NeuralSDE,
    TayNODEField,
    budget_optimizer,
    local_regularization,
    rnode_field,
    steer_end_time,
)

ODE_METHODS = (
    "unregularized",
    "error",
    "stiffness",
    "local-unbiased",
    "local-biased",
    "taynode",
    "steer",
    "rnode",
    "budget",
)
SDE_METHODS = ("unregularized", "error")
EXPERIMENTS = ("digits", "spiral", "sde", "latent")
# STEER moves the end time, which a time series' fixed observation times do not allow.
METHODS = {
    "digits": ODE_METHODS,
    "spiral": tuple(m for m in ODE_METHODS if m != "steer"),
    "sde": SDE_METHODS,
    "latent": tuple(m for m in ODE_METHODS if m != "steer"),
}


@dataclasses.dataclass(frozen=True)
class Settings:
    """Training settings; the regularization weights follow the papers' orders of size."""

    steps: int = 400
    batch: int = 256
    lr: float = 1e-2
    rtol: float = 1e-4
    atol: float = 1e-4
    max_steps: int = 1024
    weight_error: float = 100.0
    weight_error_sde: float = 3e-3
    weight_stiffness: float = 0.1
    weight_local: float = 100.0
    weight_taynode: float = 0.01
    weight_rnode: float = 0.01
    steer_half_width: float = 0.5
    # Budget mode: the NFE target and the dual ascent's start and step (the defaults of
    # nde.BudgetWeight / nde.budget_optimizer; runs before 2026-12-04 used the step 0.05:
    # add --set dual_lr=0.05 to reproduce them).
    budget_nfe: float = 16.0
    budget_initial_weight: float = 1.0
    budget_max_weight: float = math.inf  # the cap of nde.BudgetWeight; inf: no cap
    dual_lr: float = 0.5
    seed: int = 0


class Field(eqx.Module):
    """f(t, y) = MLP([y, t]) with tanh (of [y^3, t] with ``cube``, as in the spiral
    example of Chen et al.), applied to each row of a batch of states."""

    mlp: eqx.nn.MLP
    cube: bool = eqx.field(static=True)

    def __init__(self, dim: int, width: int, *, key, cube: bool = False):
        self.mlp = eqx.nn.MLP(dim + 1, dim, width, 2, activation=jnp.tanh, key=key)
        self.cube = cube

    def __call__(self, t, y):
        feats = (lambda r: r**3) if self.cube else (lambda r: r)
        one = lambda row: self.mlp(jnp.concatenate([feats(row), jnp.full((1,), t, row.dtype)]))
        return jax.vmap(one)(y) if y.ndim == 2 else one(y)


def _node(field, settings: Settings) -> NeuralODE:
    return NeuralODE(
        field,
        diffrax.Tsit5(),
        diffrax.PIDController(rtol=settings.rtol, atol=settings.atol),
        max_steps=settings.max_steps,
    )


def regularized_solve(field, y0, ts, method: str, key, settings: Settings, budget=None):
    """(ys at ts, weighted penalty) for one of ``ODE_METHODS``; ts[-1] is the end time.
    ``budget``: the ``BudgetWeight`` of the ``budget`` method."""
    s = settings
    node = _node(field, s)
    if method == "unregularized":
        return node(y0, ts).ys, 0.0
    if method == "budget":
        sol = node(y0, ts, heuristics=True)
        return sol.ys, budget(sol.heuristics.error, sol.nfe)
    if method == "error":
        sol = node(y0, ts, heuristics=True)
        return sol.ys, s.weight_error * sol.heuristics.error
    if method == "stiffness":
        sol = node(y0, ts, stiffness=True)
        return sol.ys, s.weight_stiffness * sol.heuristics.stiffness
    if method in ("local-unbiased", "local-biased"):
        sol, pen = local_regularization(node, y0, ts, key=key, sampling=method.split("-")[1])
        return sol.ys, s.weight_local * pen.value
    if method in ("taynode", "rnode"):
        aug_field = TayNODEField(field, 2) if method == "taynode" else rnode_field(field, y0, key=key)
        weight = s.weight_taynode if method == "taynode" else s.weight_rnode
        sol = _node(aug_field, s)((y0, jnp.zeros((), y0.dtype)), ts)
        return sol.ys[0], weight * sol.ys[1][-1]
    if method == "steer":
        t_end = steer_end_time(ts[-1], s.steer_half_width, key=key)
        return node(y0, ts.at[-1].set(t_end)).ys, 0.0
    raise ValueError(f"unknown method {method!r}; pick one of {ODE_METHODS}.")


# ----------------------------------------------------------------------------- data


def digits_data(seed: int = 0):
    """scikit-learn's 8x8 digits scaled to [0, 1]: (x_train, y_train, x_test, y_test)."""
    from sklearn.datasets import load_digits

    data = load_digits()
    x = (data.data / 16.0).astype(np.float32)
    order = np.random.default_rng(seed).permutation(len(x))
    x, y = x[order], data.target[order]
    n_test = 360
    return x[n_test:], y[n_test:], x[:n_test], y[:n_test]


SPIRAL_A = np.array([[-0.1, 2.0], [-2.0, -0.1]], np.float32)


@functools.lru_cache(maxsize=4)
def _spiral_clean(n_train: int, t_end: float):
    f = lambda t, y, args: (y**3) @ jnp.asarray(SPIRAL_A, y.dtype)
    t_fine = np.linspace(0.0, t_end, 3 * n_train + 1, dtype=np.float32)
    sol = diffrax.diffeqsolve(
        diffrax.ODETerm(f), diffrax.Tsit5(), 0.0, t_end, 1e-3, jnp.array([2.0, 0.0]),
        saveat=diffrax.SaveAt(ts=jnp.asarray(t_fine)),
        stepsize_controller=diffrax.PIDController(rtol=1e-6, atol=1e-6), max_steps=100_000,
    )
    return t_fine, np.asarray(sol.ys)


def spiral_data(seed: int = 0, n_train: int = 100, t_end: float = 5.0, noise: float = 0.01):
    """The cubic spiral dy/dt = A y^3, y0 = (2, 0), on a fine grid of 3 n_train + 1 times
    in [0, t_end] by a tight diffrax solve: (t_fine, y_fine clean, train indices (every
    third), y_train = noisy observations at them)."""
    t_fine, y_fine = _spiral_clean(n_train, float(t_end))
    train_idx = np.arange(0, len(t_fine), 3)
    rng = np.random.default_rng(seed)
    y_train = y_fine[train_idx] + noise * rng.standard_normal((len(train_idx), 2)).astype(np.float32)
    return t_fine.copy(), y_fine.copy(), train_idx, y_train


def ou_data(seed: int = 0, paths: int = 512, theta: float = 2.0, mu: float = 1.0, sigma: float = 0.5):
    """Exact mean and std of the OU process dy = theta (mu - y) dt + sigma dW, y0 = 0, at
    10 times in (0, 1], and a Monte Carlo sample of them from ``paths`` exact paths."""
    ts = np.linspace(0.1, 1.0, 10)
    mean = mu * (1 - np.exp(-theta * ts))
    std = sigma * np.sqrt((1 - np.exp(-2 * theta * ts)) / (2 * theta))
    rng = np.random.default_rng(seed)
    sample = mean[None] + std[None] * rng.standard_normal((paths, len(ts)))
    return ts.astype(np.float32), sample.mean(0).astype(np.float32), sample.std(0).astype(np.float32), mean, std


LATENT_TIMES = np.linspace(0.0, 4.0, 40, dtype=np.float32)


def latent_data(seed: int = 0, n_train: int = 1000, n_test: int = 200, observed: float = 0.3,
                noise: float = 0.01):
    """Damped oscillators x(t) = a exp(-g t) sin(w t + p) at ``LATENT_TIMES`` (a in [0.5,
    1.5], g in [0.1, 0.5], w in [1, 3], p in [0, 2 pi)), each train series observed at a
    random ``observed`` fraction of the times with Gaussian noise: (x_train noisy, mask_train,
    x_test clean, mask_test). The test series are the same for every seed (seed 12345)."""

    def series(rng, n):
        a, g = rng.uniform(0.5, 1.5, (n, 1)), rng.uniform(0.1, 0.5, (n, 1))
        w, p = rng.uniform(1.0, 3.0, (n, 1)), rng.uniform(0.0, 2 * np.pi, (n, 1))
        x = a * np.exp(-g * LATENT_TIMES) * np.sin(w * LATENT_TIMES + p)
        return x.astype(np.float32), (rng.uniform(size=x.shape) < observed).astype(np.float32)

    rng = np.random.default_rng(seed)
    x_tr, m_tr = series(rng, n_train)
    x_tr = x_tr + noise * rng.standard_normal(x_tr.shape).astype(np.float32)
    x_te, m_te = series(np.random.default_rng(12345), n_test)
    return x_tr * m_tr, m_tr, x_te, m_te


# ----------------------------------------------------------------------------- tasks


class DigitsModel(eqx.Module):
    encoder: eqx.nn.Linear
    field: Field
    decoder: eqx.nn.Linear

    def __init__(self, key):
        k1, k2, k3 = jax.random.split(key, 3)
        self.encoder = eqx.nn.Linear(64, 16, key=k1)
        self.field = Field(16, 32, key=k2)
        self.decoder = eqx.nn.Linear(16, 10, key=k3)


class SDEModel(eqx.Module):
    field: Field
    log_sigma: jax.Array

    def __init__(self, key):
        self.field = Field(1, 16, key=key)
        # A strongly typed scalar: a weakly typed one turns strong after the first
        # optimizer update, which would recompile the training step once.
        self.log_sigma = jnp.full((), -1.0, jnp.result_type(float))

    def diffusion(self, t, y):
        return jnp.exp(self.log_sigma) * jnp.ones_like(y)


class LatentModel(eqx.Module):
    """Encoder (observed values and mask of the first half) -> z0 in R^4 -> neural ODE ->
    linear read-out at every time."""

    encoder: eqx.nn.MLP
    field: Field
    readout: eqx.nn.Linear

    def __init__(self, key):
        k1, k2, k3 = jax.random.split(key, 3)
        half = len(LATENT_TIMES) // 2
        self.encoder = eqx.nn.MLP(2 * half, 4, 64, 1, activation=jnp.tanh, key=k1)
        self.field = Field(4, 32, key=k2)
        self.readout = eqx.nn.Linear(4, "scalar", key=k3)

    def encode(self, x, mask):
        half = len(LATENT_TIMES) // 2
        return jax.vmap(lambda xi, mi: self.encoder(jnp.concatenate([xi[:half], mi[:half]])))(x, mask)

    def decode(self, zs):  # (times, batch, 4) -> (batch, times)
        return jnp.swapaxes(jax.vmap(jax.vmap(self.readout))(zs), 0, 1)


@dataclasses.dataclass
class Task:
    """One experiment. The seed-dependent data travel as an argument (``data(seed)``), so
    that one compiled training step and test prediction serve every seed."""

    init: Callable  # key -> model
    data: Callable  # seed -> pytree of arrays (same shapes for every seed)
    loss: Callable  # (model, data, key, method) -> scalar
    evaluate: Callable  # (model, data) -> (metric, nfe), jit-able
    metric: str
    # (model, data, key) -> NFE of one training solve (its batch drawn by key), jit-able: the
    # quantity budget mode measures, which differs from the test solve's NFE (other inputs)
    train_nfe: Callable | None = None


def _training_draw(key, n: int, size: int):
    """The batch of one training step: ``size`` of ``n`` indices without replacement, and the
    key left for the method (a loss and ``Task.train_nfe`` given one key draw the same batch)."""
    k_batch, k_method = jax.random.split(key)
    return jax.random.choice(k_batch, n, (size,), replace=False), k_method


def _digits_task(s: Settings) -> Task:
    ts = jnp.array([0.0, 1.0])
    data = lambda seed: tuple(jnp.asarray(a) for a in digits_data(seed))

    def loss(model, data, key, method, budget=None):
        x_tr, y_tr, _, _ = data
        idx, k_method = _training_draw(key, x_tr.shape[0], s.batch)
        h0 = jax.vmap(model.encoder)(x_tr[idx])
        ys, penalty = regularized_solve(model.field, h0, ts, method, k_method, s, budget)
        logits = jax.vmap(model.decoder)(ys[-1])
        return optax.softmax_cross_entropy_with_integer_labels(logits, y_tr[idx]).mean() + penalty

    def evaluate(model, data):
        _, _, x_te, y_te = data
        sol = _node(model.field, s)(jax.vmap(model.encoder)(x_te), ts)
        acc = jnp.mean(jnp.argmax(jax.vmap(model.decoder)(sol.ys[-1]), -1) == y_te)
        return acc, sol.nfe

    def train_nfe(model, data, key):
        x_tr = data[0]
        idx, _ = _training_draw(key, x_tr.shape[0], s.batch)
        return _node(model.field, s)(jax.vmap(model.encoder)(x_tr[idx]), ts).nfe

    return Task(DigitsModel, data, loss, evaluate, "test accuracy", train_nfe)


def _spiral_task(s: Settings, windows: int = 16, window: int = 10) -> Task:
    # The clean trajectory and the test windows do not depend on the seed; the noise does.
    t_fine, y_fine, train_idx, _ = spiral_data(0)
    y_fine = jnp.asarray(y_fine)
    ts_window = jnp.asarray(t_fine[: 3 * window : 3])  # observations every third fine time
    init = lambda key: Field(2, 32, key=key, cube=True)
    data = lambda seed: jnp.asarray(spiral_data(seed)[3])
    # Test windows start at the fine times between observations, from the clean state.
    test_start = np.setdiff1d(np.arange(len(t_fine) - 3 * (window - 1)), train_idx)
    test_targets = y_fine[test_start[:, None] + 3 * np.arange(window)[None]]

    def loss(model, y_tr, key, method, budget=None):
        # Windows of consecutive observations, each started from its first (noisy) point,
        # as in the spiral example of Chen et al. (NeurIPS 2018).
        start, k_method = _training_draw(key, y_tr.shape[0] - window, windows)
        targets = jax.vmap(lambda i: jax.lax.dynamic_slice_in_dim(y_tr, i, window))(start)
        ys, penalty = regularized_solve(model, y_tr[start], ts_window, method, k_method, s, budget)
        return jnp.mean((jnp.swapaxes(ys, 0, 1) - targets) ** 2) + penalty

    def evaluate(model, y_tr):
        sol = _node(model, s)(y_fine[test_start], ts_window)
        return jnp.mean((jnp.swapaxes(sol.ys, 0, 1) - test_targets) ** 2), sol.nfe

    def train_nfe(model, y_tr, key):
        start, _ = _training_draw(key, y_tr.shape[0] - window, windows)
        return _node(model, s)(y_tr[start], ts_window).nfe

    return Task(init, data, loss, evaluate, "test MSE", train_nfe)


def _sde_task(s: Settings, paths: int = 128) -> Task:
    ts_obs, _, _, mean_exact, std_exact = ou_data(0)
    ts = jnp.concatenate([jnp.zeros(1), jnp.asarray(ts_obs)])
    data = lambda seed: tuple(jnp.asarray(a) for a in ou_data(seed)[1:3])  # observed moments

    def sample_paths(model, key, heuristics):
        sde = NeuralSDE(
            model.field, model.diffusion,
            stepsize_controller=diffrax.PIDController(rtol=s.rtol * 100, atol=s.atol * 100),
            max_steps=s.max_steps,
        )
        solve = lambda k: sde(jnp.zeros(1), ts, key=k, dt0=0.05, heuristics=heuristics)
        return jax.vmap(solve)(jax.random.split(key, paths))

    def moments_loss(ys, mean, std):
        ys = ys[:, 1:, 0]
        return jnp.mean((ys.mean(0) - mean) ** 2) + jnp.mean((ys.std(0) - std) ** 2)

    def loss(model, data, key, method):
        mean_obs, std_obs = data
        sol = sample_paths(model, key, method == "error")
        penalty = s.weight_error_sde * sol.heuristics.error.mean() if method == "error" else 0.0
        return moments_loss(sol.ys, mean_obs, std_obs) + penalty

    def evaluate(model, data):
        sol = sample_paths(model, jax.random.key(12345), False)
        return moments_loss(sol.ys, mean_exact, std_exact), sol.nfe.mean()

    return Task(SDEModel, data, loss, evaluate, "test moment MSE")


def _latent_task(s: Settings) -> Task:
    ts = jnp.asarray(LATENT_TIMES)
    data = lambda seed: tuple(jnp.asarray(a) for a in latent_data(seed))

    def loss(model, data, key, method, budget=None):
        # masked MSE over every observed time (the first half reconstructed, the second
        # extrapolated), as the latent ODE's Gaussian likelihood with fixed variance
        x_tr, m_tr, _, _ = data
        idx, k_method = _training_draw(key, x_tr.shape[0], s.batch)
        x, m = x_tr[idx], m_tr[idx]
        zs, penalty = regularized_solve(model.field, model.encode(x, m), ts, method, k_method, s, budget)
        return jnp.sum(m * (model.decode(zs) - x) ** 2) / jnp.sum(m) + penalty

    def evaluate(model, data):
        _, _, x_te, m_te = data
        sol = _node(model.field, s)(model.encode(x_te * m_te, m_te), ts)
        return jnp.mean((model.decode(sol.ys) - x_te) ** 2), sol.nfe

    def train_nfe(model, data, key):
        x_tr, m_tr = data[0], data[1]
        idx, _ = _training_draw(key, x_tr.shape[0], s.batch)
        return _node(model.field, s)(model.encode(x_tr[idx], m_tr[idx]), ts).nfe

    return Task(LatentModel, data, loss, evaluate, "test MSE", train_nfe)


TASKS = {"digits": _digits_task, "spiral": _spiral_task, "sde": _sde_task, "latent": _latent_task}

# Per-experiment settings: the weights scale each penalty to the task loss's size
# (cross-entropy ~ 1 for digits, MSE ~ 1e-3 for the spiral). Budget targets: a fraction
# of the unregularized test NFE of RESULTS.md's 0.2 runs (digits 0.6 x 27, spiral
# 0.7 x 105), the user's statement of what they can afford; a first spiral run at
# 0.6 x 105 = 63 lost the fit (benchmarks/RESULTS.md, "Budget mode").
DEFAULTS = {
    "digits": Settings(steps=1000, budget_nfe=16.0),
    "spiral": Settings(
        steps=1000, rtol=1e-6, atol=1e-6, weight_error=0.01, weight_local=0.01,
        weight_stiffness=1e-4, weight_taynode=1e-6, weight_rnode=1e-4, budget_nfe=73.0,
    ),
    "sde": Settings(steps=150),
    "latent": Settings(steps=1000, batch=128, lr=3e-3, weight_error=0.01, weight_stiffness=1e-4,
                       weight_local=0.01, weight_taynode=1e-6, weight_rnode=1e-4, budget_nfe=40.0),
}


def _check_names(experiment: str, method: str) -> None:
    if experiment not in TASKS:
        raise ValueError(f"unknown experiment {experiment!r}; pick one of {EXPERIMENTS}.")
    if method not in METHODS[experiment]:
        raise ValueError(
            f"method {method!r} does not apply to {experiment!r}; pick one of {METHODS[experiment]}."
        )


class Trainer:
    """Trains one (experiment, method) pair with ``jaxsci.core.fit``, one seed after another.

    The data are an argument of the loss (``fit(..., data=...)``), not constants, so every
    seed runs the same program; the test prediction is compiled once for every seed.

    Args:
        experiment: one of ``EXPERIMENTS``.
        method: one of ``METHODS[experiment]``.
        settings: the experiment's settings (default ``DEFAULTS[experiment]``); their
            ``seed`` is ignored, ``run(seed)`` picks it.
        repeats: jitted test predictions timed per seed (their median is ``predict_s``).
    """

    def __init__(self, experiment: str, method: str, settings: Settings | None = None,
                 repeats: int = 50):
        _check_names(experiment, method)
        self.experiment, self.method, self.repeats = experiment, method, repeats
        self.settings = DEFAULTS[experiment] if settings is None else settings
        self.task = TASKS[experiment](self.settings)
        self.optimizer = optax.adam(self.settings.lr)
        task = self.task
        self.loss = lambda model, data, key: task.loss(model, data, key, method)
        self.evaluate = eqx.filter_jit(task.evaluate)
        self.train_nfe = None if task.train_nfe is None else eqx.filter_jit(task.train_nfe)
        self.init = task.init
        if method == "budget":
            s = self.settings
            # The model carries the multiplier; budget_optimizer gives it the dual step.
            self.init = lambda key: (task.init(key), BudgetWeight(
                s.budget_nfe, initial_weight=s.budget_initial_weight,
                max_weight=None if math.isinf(s.budget_max_weight) else s.budget_max_weight))
            self.optimizer = budget_optimizer(optax.adam(s.lr), s.dual_lr)
            self.loss = lambda m, data, key: task.loss(m[0], data, key, method, budget=m[1])
            self.evaluate = eqx.filter_jit(lambda m, data: task.evaluate(m[0], data))
            if task.train_nfe is not None:
                self.train_nfe = eqx.filter_jit(lambda m, data, k: task.train_nfe(m[0], data, k))

    def run(self, seed: int) -> dict:
        """Train with this seed (data, initialization, batches); returns the benchmark row.

        ``train_s`` is the wall time of the training steps (``fit(compile_first=True)``:
        compilation excluded, reported as ``first_step_s``); ``predict_s`` is the median
        of ``repeats`` jitted test predictions.
        """
        settings, task = self.settings, self.task
        data = task.data(seed)
        key = jax.random.key(seed)
        model = self.init(jax.random.fold_in(key, 1))
        out = fit(self.loss, model, self.optimizer, steps=settings.steps,
                  key=jax.random.fold_in(key, 2), data=data, chunk=min(100, settings.steps),
                  compile_first=True, progress=False)
        model = out.model
        train_s = float(out.history_wall_time[-1])

        jax.block_until_ready(self.evaluate(model, data))
        times = []
        for _ in range(self.repeats):
            start = time.perf_counter()
            metric, nfe = jax.block_until_ready(self.evaluate(model, data))
            times.append(time.perf_counter() - start)
        # NFE of training solves of the final model (8 fixed batch draws, their mean):
        # what budget mode's target is measured on, beside the test solve's NFE.
        train_nfe = float("nan") if self.train_nfe is None else float(np.mean(
            [self.train_nfe(model, data, jax.random.key(10_000 + j)) for j in range(8)]))
        return dict(
            experiment=self.experiment,
            method=self.method,
            metric=float(metric),
            metric_name=task.metric,
            train_s=train_s,
            first_step_s=out.compile_time,
            test_nfe=float(nfe),
            train_nfe=train_nfe,
            predict_s=float(np.median(times)),
            final_loss=float(out.losses[-1]),
            steps=settings.steps,
            seed=seed,
            weight=float(model[1].value) if self.method == "budget" else float("nan"),
        )


def run(experiment: str, method: str, settings: Settings | None = None, repeats: int = 50) -> dict:
    """Train one (experiment, method) pair with ``settings.seed``; returns the benchmark row
    (see ``Trainer.run``)."""
    _check_names(experiment, method)
    settings = DEFAULTS[experiment] if settings is None else settings
    return Trainer(experiment, method, settings, repeats).run(settings.seed)


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    experiment = args[0] if len(args) > 0 else "spiral"
    method = args[1] if len(args) > 1 else "error"
    _check_names(experiment, method)
    settings = DEFAULTS[experiment]
    if len(args) > 2:
        settings = dataclasses.replace(settings, steps=int(args[2]))
    print(run(experiment, method, settings, repeats=5))


if __name__ == "__main__":
    main()
