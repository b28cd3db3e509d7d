"""The trained 8x8-digits diffusion models the sampler benchmarks measure on.

The networks and their training live in ``examples/diffusion_digits.py``; this module loads
that example, and trains each model once into ``benchmarks/out/digits`` (reused by every
later run with the same settings).
"""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path

import jax
import jax.numpy as jnp

from jaxsci import diffusion as D

ROOT = Path(__file__).parents[1]
MODEL_DIR = ROOT / "benchmarks" / "out" / "digits"


@cache
def example():
    spec = importlib.util.spec_from_file_location("diffusion_digits", ROOT / "examples" / "diffusion_digits.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def digits_model(parametrization: str = "eps", *, dtype=jnp.float64, seed: int = 0):
    """``(model(x, t), schedule, images)``: the trained network as a sampler's model."""
    ex = example()
    net = ex.trained_model(MODEL_DIR, parametrization=parametrization, seed=seed, progress=True)
    images, _ = ex.load_digits()
    return ex.as_sampler_model(net, dtype), D.VPLinear(), images.astype(dtype)


def digits_classifier(seed: int = 0):
    """``(features(x) for a batch, held-out accuracy)`` of the example's digits classifier."""
    ex = example()
    images, labels = ex.load_digits()
    clf, accuracy = ex.train_classifier(images, labels, seed=seed)
    return (lambda x: jax.vmap(clf.features)(jnp.asarray(x, jnp.float32))), accuracy
