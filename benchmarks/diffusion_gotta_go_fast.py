"""Gotta Go Fast (adaptive reverse-SDE solver) against fixed-grid SDE samplers at equal NFE.

    python benchmarks/diffusion_gotta_go_fast.py [--quick] [--json PATH] [--dims ...] [--rtols ...]

Data: the mixture of ``benchmarks/diffusion_samplers.py`` (8 equal-weight Gaussians, std 0.05,
means ~ N(0, I)) in each dimension; model: its exact noise prediction under the VP linear
schedule (beta 0.1..20, t in [1e-3, 1]); float32. For each ``rtol``, ``GottaGoFast(rtol=rtol)``
(Jolicoeur-Martineau et al., arXiv 2105.14080, Algorithm 1; other settings the paper's) samples
from the start noises, and its mean NFE over the samples (every attempt's two evaluations and
the final denoising) is rounded to ``nfe``. ``EulerMaruyama`` (grid uniform in t, the paper's
baseline) and ``SDEDPMSolverPP2M`` (grid uniform in log-SNR) then run with ``nfe - 1`` steps and
the final denoising, so the same NFE, from the same start noises and keys. ``sliced_w1``:
sliced Wasserstein-1 distance (64 random directions) to as many fresh draws from the data;
``floor``: that distance between two independent data sets of that size (what a perfect
sampler gets). ``rejected``: the fraction of GGF's step attempts that were rejected.

``compare(model, schedule, data_sampler, ...)`` takes any model (e.g. a trained network) and a
function drawing data; ``main`` runs it on the mixtures.
JSON: ``{"rows": [{"dim", "sampler", "rtol", "nfe", "sliced_w1", "floor", "rejected"}], ...}``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import jax
import jax.numpy as jnp

sys.path.insert(0, str(Path(__file__).parent))
from _common import machine, markdown_table, parser, versions, write_json
from diffusion_samplers import sliced_w1

from jaxsci import diffusion as D

COLUMNS = ["dim", "sampler", "rtol", "nfe", "sliced_w1", "floor", "rejected"]


def _batched(sampler, model, schedule, grid):
    return jax.jit(jax.vmap(lambda x, k: sampler(model, schedule, x, grid, key=k)))


def compare(model: Callable, schedule: D.AbstractSchedule, data_sampler: Callable, *, x_T, keys,
            rtols=(0.5, 0.1, 0.02), parametrization: str = "eps", proj_key=None, data_key=None,
            label=None) -> list[dict]:
    """GGF at each of ``rtols`` and the fixed-grid SDE samplers at its (rounded) mean NFE.

    Args:
        model: ``model(x, t)`` on one sample, predicting ``parametrization``.
        schedule: its noise schedule (sampling runs from ``t_max`` to ``t_min``).
        data_sampler: ``data_sampler(n, key) -> (n, d)`` fresh data draws.
        x_T: ``(n, d)`` start noises, shared by every sampler; ``keys``: ``(n,)`` their keys.
        rtols: GGF's relative tolerances (the other settings are the paper's defaults).
        proj_key, data_key: keys of the sliced distance's directions and of the data draws.
        label: the ``dim`` column (default ``x_T.shape[1]``).

    Returns:
        One row per (sampler, NFE): ``dim``, ``sampler``, ``rtol`` (GGF only), ``nfe``,
        ``sliced_w1``, ``floor`` and ``rejected`` (GGF only).
    """
    n = x_T.shape[0]
    proj_key = jax.random.key(3) if proj_key is None else proj_key
    data_key = jax.random.key(2) if data_key is None else data_key
    k1, k2 = jax.random.split(data_key)
    data = data_sampler(n, k1)
    floor = sliced_w1(data_sampler(n, k2), data, proj_key)
    label = x_T.shape[1] if label is None else label
    ends = D.time_grid(schedule, 1)
    # rtol traced: one compilation for every tolerance
    ggf = jax.jit(lambda rtol: jax.vmap(lambda x, k: D.GottaGoFast(rtol=rtol, parametrization=parametrization)(
        model, schedule, x, ends, key=k))(x_T, keys))
    rows = []
    for rtol in rtols:
        out = ggf(rtol)
        nfe = max(2, round(float(jnp.mean(out.nfe))))
        rejected = float(jnp.sum(out.num_rejected) / jnp.sum(out.num_steps))
        rows.append(dict(dim=label, sampler="gotta_go_fast", rtol=rtol, nfe=nfe, nfe_mean=float(jnp.mean(out.nfe)),
                         sliced_w1=sliced_w1(out.x, data, proj_key), floor=floor, rejected=rejected))
        baselines = {
            "euler_maruyama": (D.EulerMaruyama(parametrization=parametrization, denoise_to_zero=True),
                               D.time_grid(schedule, nfe - 1, "uniform")),
            "sde_dpm_solver_pp_2m": (D.SDEDPMSolverPP2M(parametrization=parametrization, denoise_to_zero=True),
                                     D.time_grid(schedule, nfe - 1)),
        }
        for name, (sampler, grid) in baselines.items():
            got = _batched(sampler, model, schedule, grid)(x_T, keys)
            assert int(got.nfe[0]) == nfe, (name, int(got.nfe[0]), nfe)
            rows.append(dict(dim=label, sampler=name, rtol=None, nfe=nfe, sliced_w1=sliced_w1(got.x, data, proj_key),
                             floor=floor, rejected=None))
        for row in rows[-3:]:
            print(f"d={label!s:>6} {row['sampler']:22s} NFE {nfe:4d}  sliced W1 {row['sliced_w1']:.4f}  "
                  f"(floor {floor:.4f})", flush=True)
    return rows


def mixture_rows(dim: int, num_samples: int, rtols) -> list[dict]:
    """``compare`` on the mixture of ``benchmarks/diffusion_samplers.py`` in ``dim`` dimensions."""
    schedule = D.VPLinear()
    gm = D.GaussianMixture.random(8, dim, std=0.05, key=jax.random.key(0))
    x_T = jax.random.normal(jax.random.key(1), (num_samples, dim))
    keys = jax.random.split(jax.random.key(4), num_samples)
    return compare(gm.noise_model(schedule), schedule, lambda n, key: gm.sample(n, key=key), x_T=x_T, keys=keys,
                   rtols=rtols)


def digits_rows(num_samples: int, rtols) -> list[dict]:
    """``compare`` on the trained 8x8-digits eps-network (``examples/diffusion_digits.py``),
    float32; data draws are random subsets of the 1797 images (so two draws overlap, and the
    floor is an underestimate: keep ``num_samples`` at most half the images)."""
    from _digits import digits_model

    model, schedule, images = digits_model("eps", dtype=jnp.float32)
    x_T = jax.random.normal(jax.random.key(1), (num_samples, 64))
    keys = jax.random.split(jax.random.key(4), num_samples)
    draw = lambda n, key: images[jax.random.permutation(key, images.shape[0])[:n]]
    return compare(model, schedule, draw, x_T=x_T, keys=keys, rtols=rtols, label="digits")


def main(argv=None):
    p = parser(__doc__)
    p.add_argument("--dims", type=int, nargs="*", default=None)
    p.add_argument("--rtols", type=float, nargs="*", default=None)
    p.add_argument("--digits", action="store_true", help="also the trained digits model (dim \"digits\" in the table)")
    args = p.parse_args(argv)
    dims = args.dims or ([2, 64] if args.quick else [2, 64, 3072])
    rtols = args.rtols or ([0.5, 0.1, 0.02] if args.quick else [0.5, 0.2, 0.1, 0.05, 0.02, 0.01])
    rows = []
    for dim in dims:
        rows += mixture_rows(dim, (1024 if args.quick else 4096) if dim <= 64 else 512, rtols)
    if args.digits:
        rows += digits_rows(896, rtols)
    print()
    print(markdown_table(rows, COLUMNS))
    write_json(args.json, {"rows": rows, "machine": machine(), "versions": versions()})
    return rows


if __name__ == "__main__":
    main()
