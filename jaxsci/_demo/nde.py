"""Demo: a neural ODE classifier on scikit-learn's digits, trained without and with the
global error-estimate regularizer R_E (Pal et al., ICML 2021): test accuracy and NFE."""

import dataclasses
import pathlib
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from jaxsci.nde import experiments

STEPS = 400  # benchmarks/nde_regularization.py trains 1000 steps with three seeds
QUICK_STEPS = 40


def run(out_dir: pathlib.Path, quick: bool = False) -> list[dict]:
    out_dir = pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    steps = QUICK_STEPS if quick else STEPS
    settings = dataclasses.replace(experiments.DEFAULTS["digits"], steps=steps, batch=64 if quick else 256)
    rows, results = [], {}
    for method in ("error",) if quick else ("unregularized", "error"):  # quick: the regularized run only
        start = time.perf_counter()
        r = experiments.run("digits", method, settings, repeats=1 if quick else 50)
        results[method] = r
        rows.append(
            dict(family="nde", problem="digits neural ODE classifier",
                 method="Tsit5, " + ("R_E weight 100" if method == "error" else "unregularized"),
                 error=1.0 - r["metric"], seconds=time.perf_counter() - start,
                 note=f"test error (1 - accuracy); NFE per prediction {r['test_nfe']:.0f}; {steps} Adam steps")
        )
    fig, axes = plt.subplots(1, 2, figsize=(7, 3))
    names = list(results)
    axes[0].bar(names, [results[m]["test_nfe"] for m in names], color=["gray", "tab:blue"][-len(names):])
    axes[0].set_ylabel("NFE per test prediction")
    axes[1].bar(names, [100 * results[m]["metric"] for m in names], color=["gray", "tab:blue"][-len(names):])
    axes[1].set_ylim(80, 100)
    axes[1].set_ylabel("test accuracy (%)")
    fig.tight_layout()
    fig.savefig(out_dir / "nde_regularization.png")
    plt.close(fig)
    return rows
