"""Fit a 5-step grid to a model, judge it on start-noises the fit never saw, save it, load it.

The model is the exact noise prediction of a Gaussian mixture (any ``eps(x, t)`` works),
the references are its exact probability-flow endpoints, and the grid starts from the best
hand-designed kind on the training start-noises.

    python examples/diffusion_learned_grid.py
"""

import tempfile
from pathlib import Path

import jax

from jaxsci import diffusion as D
from jaxsci.core import enable_x64


def main(num_train: int = 512, num_test: int = 1024, steps: int = 300, nfe: int = 5,
         out: str | None = None) -> dict:
    with enable_x64(True):
        schedule = D.VPLinear()
        data = D.GaussianMixture.random(8, 16, std=0.1, key=jax.random.key(0))
        model = data.noise_model(schedule)
        sampler = D.UniPC(order=2)
        k_train, k_test = jax.random.split(jax.random.key(1))
        x_train = jax.random.normal(k_train, (num_train, 16))
        x_test = jax.random.normal(k_test, (num_test, 16))
        endpoint = jax.jit(jax.vmap(lambda x: data.flow_endpoint(schedule, x, schedule.t_max, 1e-3)))
        r_train, r_test = endpoint(x_train), endpoint(x_test)

        def mse(x, r, grid):
            return float(D.endpoint_mse(sampler, model, schedule, x, r, grid))

        hand = {kind: D.time_grid(schedule, nfe, kind, t_end=1e-3) for kind in D.GRID_KINDS}
        best = min(hand, key=lambda k: mse(x_train, r_train, hand[k]))   # chosen on training noise
        fitted = D.fit_grid(sampler, model, schedule, x_train, r_train, hand[best], steps=steps,
                            batch_size=min(256, num_train), key=jax.random.key(2))
        results: dict = {f"hand {kind}": mse(x_test, r_test, grid) for kind, grid in hand.items()}
        results["learned"] = mse(x_test, r_test, fitted.grid)
        for name, value in results.items():
            print(f"{name:16s} test endpoint MSE {value:.3e}")
        print(f"learned grid (from {best!r}): {[round(float(t), 4) for t in fitted.grid]}")
        path = Path(out) if out else Path(tempfile.mkdtemp()) / "unipc_nfe5.json"
        D.save_grid(path, fitted.grid, schedule=schedule, sampler=sampler, overwrite=True,
                    fitted_on=f"{num_train} start-noises")
        reloaded = D.load_grid(path, schedule=schedule)
        results["reloaded equal"] = bool((reloaded == fitted.grid).all())
        results["best hand kind"] = best
        return results


if __name__ == "__main__":
    main()
