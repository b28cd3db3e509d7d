"""Demo: a neural ODE classifier trained without and with the global error-estimate
regularizer R_E (Pal et al., ICML 2021): test accuracy and NFE per prediction.

The data are synthetic, so that the demo needs nothing beyond jaxsci: ten random 8x8
binary templates, each sample one of them with 25% of its pixels flipped and Gaussian
noise added. The network is the digits classifier of ``benchmarks/nde_experiments.py``:
64 -> 16 (linear) -> ODE on [0, 1] -> 10.
"""

import pathlib
import time

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

from ..core import fit
from ..nde import NeuralODE
from . import pyplot

STEPS = 400
QUICK_STEPS = 40
WEIGHT = 100.0  # R_E weight, as in benchmarks/nde_experiments.py for the digits


def make_data(seed: int = 0, n_train: int = 1000, n_test: int = 500):
    """(x_train, y_train, x_test, y_test): noisy copies of ten random 8x8 templates."""
    rng = np.random.default_rng(seed)
    templates = (rng.random((10, 64)) < 0.3).astype(np.float32)

    def draw(n):
        labels = rng.integers(0, 10, n)
        flip = rng.random((n, 64)) < 0.25
        x = np.abs(templates[labels] - flip) + 0.25 * rng.standard_normal((n, 64))
        return np.clip(x, 0.0, 1.0).astype(np.float32), labels.astype(np.int32)

    return (*draw(n_train), *draw(n_test))


class Field(eqx.Module):
    """f(t, y) = MLP([y, t]) with tanh, applied to each row of a batch of states."""

    mlp: eqx.nn.MLP

    def __call__(self, t, y):
        one = lambda row: self.mlp(jnp.concatenate([row, jnp.full((1,), t, row.dtype)]))
        return jax.vmap(one)(y)


class Classifier(eqx.Module):
    encoder: eqx.nn.Linear
    field: Field
    decoder: eqx.nn.Linear

    def __init__(self, key):
        k1, k2, k3 = jax.random.split(key, 3)
        self.encoder = eqx.nn.Linear(64, 16, key=k1)
        self.field = Field(eqx.nn.MLP(17, 16, 32, 2, activation=jnp.tanh, key=k2))
        self.decoder = eqx.nn.Linear(16, 10, key=k3)

    def node(self) -> NeuralODE:
        controller = diffrax.PIDController(rtol=1e-4, atol=1e-4)
        return NeuralODE(self.field, diffrax.Tsit5(), controller, max_steps=1024)

    def __call__(self, x, heuristics=False):
        sol = self.node()(jax.vmap(self.encoder)(x), jnp.array([0.0, 1.0]), heuristics=heuristics)
        return jax.vmap(self.decoder)(sol.ys[-1]), sol


def train(method: str, steps: int, batch: int, data, seed: int = 0):
    """Train with Adam 1e-2 through ``jaxsci.core.fit``; returns (accuracy, NFE, seconds)."""
    x_tr, y_tr, x_te, y_te = (jnp.asarray(a) for a in data)
    regularized = method == "error"

    def loss(model, data, key):
        x, y = data
        idx = jax.random.choice(key, x.shape[0], (batch,), replace=False)
        logits, sol = model(x[idx], heuristics=regularized)
        penalty = WEIGHT * sol.heuristics.error if regularized else 0.0
        return optax.softmax_cross_entropy_with_integer_labels(logits, y[idx]).mean() + penalty

    start = time.perf_counter()
    out = fit(loss, Classifier(jax.random.key(seed)), optax.adam(1e-2), steps=steps,
              key=jax.random.key(seed + 1), data=(x_tr, y_tr), progress=False)
    logits, sol = eqx.filter_jit(lambda m: m(x_te))(out.model)
    accuracy = float(jnp.mean(jnp.argmax(logits, -1) == y_te))
    return accuracy, float(sol.nfe), time.perf_counter() - start


def run(out_dir: pathlib.Path, quick: bool = False) -> list[dict]:
    out_dir = pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    steps = QUICK_STEPS if quick else STEPS
    data = make_data()
    rows, results = [], {}
    for method in ("error",) if quick else ("unregularized", "error"):  # quick: the regularized run only
        accuracy, nfe, seconds = train(method, steps, 64 if quick else 256, data)
        results[method] = (accuracy, nfe)
        rows.append(
            dict(family="nde", problem="synthetic 8x8 templates, neural ODE classifier",
                 method="Tsit5, " + (f"R_E weight {WEIGHT:g}" if method == "error" else "unregularized"),
                 error=1.0 - accuracy, seconds=seconds,
                 note=f"test error (1 - accuracy); NFE per prediction {nfe:.0f}; {steps} Adam steps")
        )
    plt = pyplot()
    if plt is None:
        return rows
    fig, axes = plt.subplots(1, 2, figsize=(7, 3))
    names = list(results)
    colors = ["gray", "tab:blue"][-len(names):]
    axes[0].bar(names, [results[m][1] for m in names], color=colors)
    axes[0].set_ylabel("NFE per test prediction")
    axes[1].bar(names, [100 * results[m][0] for m in names], color=colors)
    axes[1].set_ylim(0, 100)
    axes[1].set_ylabel("test accuracy (%)")
    fig.tight_layout()
    fig.savefig(out_dir / "nde_regularization.png")
    plt.close(fig)
    return rows
