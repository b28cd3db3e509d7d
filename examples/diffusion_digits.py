"""Train a small diffusion model on scikit-learn's 8x8 digits, and judge samplers on it.

    python examples/diffusion_digits.py [--steps 8000] [--parametrization eps|v]
                                        [--out-dir diffusion_digits] [--nfe 5 10]

Denoising score matching (Ho et al., NeurIPS 2020, eq. 14; the v target of Salimans & Ho,
ICLR 2022, Sec. 4) under the VP linear schedule, trained with ``jaxsci.core.fit`` on the 1797
images scaled to [-1, 1] (64 pixels each): 8000 Adam steps, about two minutes on two CPU cores. The trained network is saved
with ``equinox.tree_serialise_leaves`` next to a JSON of the settings that rebuild it, and is
loaded from there on the next run.

Two quality figures for a sampler on this model:

* endpoint MSE: the mean squared difference between the sampler's output and the same
  model's probability-flow ODE solved to tight tolerance with diffrax from the same start
  noise (the figure DPM-Solver-v3, Zheng et al. 2023, Sec. 5, and DC-Solver, Zhao et al.
  2024, report for Stable Diffusion): it measures the solver, not the model;
* a Frechet distance to the data in the features of a digits classifier trained here (the
  FID construction of Heusel et al., NeurIPS 2017, eq. 6, with this small classifier in
  place of Inception): it measures the samples.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import optax

from jaxsci import diffusion as D
from jaxsci.core import enable_x64, fit

IMAGE_SIZE = 64  # 8 x 8 pixels


def load_digits() -> tuple[jax.Array, jax.Array]:
    """scikit-learn's 1797 8x8 digits as ``(images in [-1, 1] of shape (1797, 64), labels)``."""
    try:
        from sklearn.datasets import load_digits as sklearn_digits
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError("The digits data ship with scikit-learn: pip install 'jaxsci[datasets]'.") from err
    digits = sklearn_digits()
    images = jnp.asarray(digits.data, dtype=jnp.float32) / 8.0 - 1.0
    return images, jnp.asarray(digits.target)


class TimeMLP(eqx.Module):
    """``f(x, t)``: an MLP on the flat image and Fourier features of ``t`` in [0, 1]; float32
    weights (``as_sampler_model`` casts them for float64 sampling)."""

    mlp: eqx.nn.MLP
    frequencies: jax.Array

    def __init__(self, width: int = 512, depth: int = 3, num_frequencies: int = 8, *, key):
        self.frequencies = math.pi * 2.0 ** jnp.arange(num_frequencies, dtype=jnp.float32) / 2.0
        self.mlp = eqx.nn.MLP(IMAGE_SIZE + 2 * num_frequencies, IMAGE_SIZE, width, depth,
                              activation=jax.nn.silu, dtype=jnp.float32, key=key)

    def __call__(self, x, t):
        freqs = jax.lax.stop_gradient(self.frequencies).astype(x.dtype)
        phase = freqs * t
        return self.mlp(jnp.concatenate([x, jnp.sin(phase), jnp.cos(phase)]))


def settings_of(*, parametrization: str, width: int, depth: int, steps: int, seed: int) -> dict:
    return {"parametrization": parametrization, "width": width, "depth": depth, "steps": steps, "seed": seed,
            "schedule": "VPLinear"}


def train_denoiser(images, *, parametrization: str = "eps", width: int = 512, depth: int = 3,
                   steps: int = 8000, batch_size: int = 256, learning_rate: float = 1e-3, seed: int = 0,
                   progress: bool = False) -> TimeMLP:
    """Fit ``TimeMLP`` by denoising score matching (``D.denoising_loss``) with cosine Adam."""
    schedule = D.VPLinear()
    k_net, k_fit = jax.random.split(jax.random.key(seed))
    net = TimeMLP(width, depth, key=k_net)

    def loss_fn(net, batch, *, key):
        return D.denoising_loss(net, schedule, batch, key=key, parametrization=parametrization)

    def sample(k):
        return images[jax.random.randint(k, (batch_size,), 0, images.shape[0])]

    optimizer = optax.adam(optax.warmup_cosine_decay_schedule(0.0, learning_rate, 200, steps))
    return fit(loss_fn, net, optimizer, steps=steps, key=k_fit, sample=sample, progress=progress,
               desc=f"digits {parametrization}").model


def save_model(net: eqx.Module, settings: dict, path: Path) -> None:
    """Write ``path`` (equinox leaves) and ``path.json`` (the settings that rebuild it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    eqx.tree_serialise_leaves(path, net)
    path.with_suffix(".json").write_text(json.dumps(settings, indent=1))


def load_model(path: Path) -> tuple[TimeMLP, dict]:
    settings = json.loads(path.with_suffix(".json").read_text())
    like = TimeMLP(settings["width"], settings["depth"], key=jax.random.key(0))
    return eqx.tree_deserialise_leaves(path, like), settings


def trained_model(out_dir: Path, *, parametrization: str = "eps", width: int = 512, depth: int = 3,
                  steps: int = 8000, seed: int = 0, progress: bool = False) -> TimeMLP:
    """The network saved in ``out_dir`` for these settings, trained and saved first if absent.

    A file written with other settings is never overwritten: each setting has its own name.
    """
    settings = settings_of(parametrization=parametrization, width=width, depth=depth, steps=steps, seed=seed)
    path = Path(out_dir) / f"digits_{parametrization}_w{width}_d{depth}_s{steps}_seed{seed}.eqx"
    if path.exists() and path.with_suffix(".json").exists():
        saved = json.loads(path.with_suffix(".json").read_text())
        if saved == settings:
            return load_model(path)[0]
        raise ValueError(f"{path} holds a model with settings {saved}, not {settings}; remove it or pick "
                         f"another out_dir.")
    images, _ = load_digits()
    net = train_denoiser(images, parametrization=parametrization, width=width, depth=depth, steps=steps,
                         seed=seed, progress=progress)
    save_model(net, settings, path)
    return net


class Classifier(eqx.Module):
    """A digits classifier whose last hidden layer gives the features of the Frechet distance."""

    body: eqx.nn.MLP
    head: eqx.nn.Linear

    def __init__(self, width: int = 128, *, key):
        k1, k2 = jax.random.split(key)
        self.body = eqx.nn.MLP(IMAGE_SIZE, width, width, 1, activation=jax.nn.relu,
                               final_activation=jax.nn.relu, dtype=jnp.float32, key=k1)
        self.head = eqx.nn.Linear(width, 10, dtype=jnp.float32, key=k2)

    def features(self, x):
        return self.body(x)

    def __call__(self, x):
        return self.head(self.features(x))


def train_classifier(images, labels, *, steps: int = 2000, seed: int = 0) -> tuple[Classifier, float]:
    """Train on a random 80% of the digits; returns the classifier and its held-out accuracy.

    Inputs are jittered with small Gaussian noise so that the features stay meaningful on
    slightly imperfect samples.
    """
    n = images.shape[0]
    k_perm, k_net, k_fit = jax.random.split(jax.random.key(seed + 1000), 3)
    order = jax.random.permutation(k_perm, n)
    train, test = order[: int(0.8 * n)], order[int(0.8 * n):]
    clf = Classifier(key=k_net)

    def loss_fn(clf, batch, *, key):
        x, y = batch
        x = x + 0.05 * jax.random.normal(key, x.shape, x.dtype)
        logits = jax.vmap(clf)(x)
        return jnp.mean(optax.softmax_cross_entropy_with_integer_labels(logits, y))

    def sample(k):
        idx = train[jax.random.randint(k, (128,), 0, train.shape[0])]
        return images[idx], labels[idx]

    clf = fit(loss_fn, clf, optax.adamw(1e-3, weight_decay=1e-4), steps=steps, key=k_fit, sample=sample,
              progress=False).model
    accuracy = float(jnp.mean(jnp.argmax(jax.vmap(clf)(images[test]), axis=1) == labels[test]))
    return clf, accuracy


def feature_frechet(clf: Classifier, x, y) -> float:
    """Frechet distance of two image sets in the classifier's features."""
    return float(D.frechet_distance(jax.vmap(clf.features)(x), jax.vmap(clf.features)(y)))


def as_sampler_model(net: TimeMLP, dtype=jnp.float64):
    """The trained network as a sampler's ``model(x, t)`` in ``dtype`` (float64 for the
    reference solves, so that the reference's own error is far below any sampler's)."""
    net = jax.tree_util.tree_map(lambda a: a.astype(dtype) if eqx.is_inexact_array(a) else a, net)
    return lambda x, t: net(x, t)


def main(steps: int = 8000, parametrization: str = "eps", out_dir: str = "diffusion_digits",
         nfes: tuple[int, ...] = (5, 10), num_samples: int = 512, seed: int = 0) -> dict:
    schedule = D.VPLinear()
    images, labels = load_digits()
    start = time.perf_counter()
    net = trained_model(Path(out_dir), parametrization=parametrization, steps=steps, seed=seed)
    train_seconds = time.perf_counter() - start
    clf, accuracy = train_classifier(images, labels, seed=seed)
    half = images.shape[0] // 2
    results = {"train or load seconds": train_seconds, "classifier accuracy": accuracy,
               "frechet: data half vs half": feature_frechet(clf, images[:half], images[half:2 * half])}
    with enable_x64(True):  # sampling and the reference in float64, without changing the global setting
        model = as_sampler_model(net)
        x_T = jax.random.normal(jax.random.key(seed + 1), (num_samples, IMAGE_SIZE), dtype=jnp.float64)
        reference = jax.jit(jax.vmap(lambda x: D.probability_flow_reference(
            model, schedule, x, parametrization=parametrization)))(x_T)
        results["frechet: exact flow"] = feature_frechet(clf, reference.astype(jnp.float32), images)
        samplers = {"DDIM": D.DDIM(parametrization=parametrization),
                    "DPM-Solver++(2M)": D.DPMSolverPP(order=2, parametrization=parametrization),
                    "UniPC-bh2": D.UniPC(order=2, parametrization=parametrization)}
        for nfe in nfes:
            grid = D.time_grid(schedule, nfe)
            for name, sampler in samplers.items():
                x0 = jax.jit(jax.vmap(lambda x, f=sampler: f(model, schedule, x, grid).x))(x_T)
                results[f"endpoint MSE: {name}, NFE {nfe}"] = float(jnp.mean((x0 - reference) ** 2))
                results[f"frechet: {name}, NFE {nfe}"] = feature_frechet(clf, x0.astype(jnp.float32), images)
    for name, value in results.items():
        print(f"{name:40s} {value:.4g}")
    return results

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=8000)
    parser.add_argument("--parametrization", choices=("eps", "v"), default="eps")
    parser.add_argument("--out-dir", default="diffusion_digits")
    parser.add_argument("--nfe", type=int, nargs="+", default=[5, 10])
    args = parser.parse_args()
    main(steps=args.steps, parametrization=args.parametrization, out_dir=args.out_dir, nfes=tuple(args.nfe))
