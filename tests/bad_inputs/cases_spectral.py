import warnings

import jax
import jax.numpy as jnp
import numpy as np
import optax
from _case import BadInput

from jaxsci import core, spectral as sp
from jaxsci.pde.parametric import (
    DirichletPoisson,
    NavierStokes,
    PeriodicPoisson,
    ReactionDiffusion,
    chebyshev_interpolant_2d,
    periodic_gp,
)

_basis = sp.TensorBasis((sp.Fourier(4), sp.Fourier(4)))
_rd_basis = sp.reaction_diffusion_basis(4, 3)
_ns_basis = sp.navier_stokes_basis(3, 3, 1.0)
_cheb = sp.Chebyshev(8)
_fourier = sp.Fourier(4)


def _nsm(basis=_basis):
    return sp.NSM(basis, 1, 1, width=4, depth=1, key=jax.random.key(0))


def _train(**kwargs):
    args = dict(key=jax.random.key(0), steps=4)
    args.update(kwargs)
    sample = args.pop("sample", lambda k: jnp.ones(2))
    return sp.train_operator(jnp.zeros(2), lambda m, b: jnp.sum((m - b) ** 2), sample, optax.sgd(0.1), **args)


def _as_error(fn):
    """Run ``fn`` with warnings turned into errors (a PrecisionWarning then raises)."""
    def call():
        with warnings.catch_warnings():
            warnings.simplefilter("error", core.PrecisionWarning)
            return fn()
    return call


CASES = [
    BadInput("spectral-fourier-zero-modes", lambda: sp.Fourier(0), ValueError, "positive integer"),
    BadInput("spectral-chebyshev-one-mode", lambda: sp.Chebyshev(1), ValueError, "integer >= 2"),
    BadInput("spectral-chebyshev-reversed-interval", lambda: sp.Chebyshev(4, (1.0, 0.0)), ValueError, "hi > lo"),
    BadInput("spectral-tensor-basis-list", lambda: sp.TensorBasis([sp.Fourier(4)]), TypeError, "tuple"),
    BadInput("spectral-tensor-basis-wrong-factor", lambda: sp.TensorBasis((sp.Fourier(4), "x")), TypeError,
             "Fourier or Chebyshev"),
    BadInput("spectral-tensor-grid-sizes", lambda: _basis.to_grid(jnp.zeros(_basis.shape), (8, 8, 8)), ValueError,
             "needs 2 sizes"),
    BadInput("spectral-tensor-derivative-axis", lambda: _basis.derivative(jnp.zeros(_basis.shape), axis=2), ValueError,
             "one of the 2 variables"),
    BadInput("spectral-fourier-resize-wrong-layout", lambda: sp.Fourier(4).resize(jnp.zeros(5), 3), ValueError,
             "resize with the basis"),
    BadInput("spectral-loss-shape", lambda: sp.spectral_loss(jnp.zeros((2, 5, 5)), _basis), ValueError,
             "coefficient shape"),
    BadInput("spectral-loss-weight", lambda: sp.spectral_loss(jnp.zeros(_basis.shape), _basis, weight="sobolev"),
             ValueError, "must be one of"),
    BadInput("spectral-initial-value-fourier-time", lambda: sp.initial_value_mollifier(jnp.zeros(7), jnp.zeros(_basis.shape), _basis),
             TypeError, "Chebyshev"),
    BadInput("spectral-nsm-key", lambda: sp.NSM(_basis, 1, 1, key=0), TypeError, "jax.random.key(seed)"),
    BadInput("spectral-nsm-width", lambda: sp.NSM(_basis, 1, 1, width=0, key=jax.random.key(0)), ValueError,
             "positive integer"),
    BadInput("spectral-nsm-input-shape", lambda: _nsm()(jnp.zeros((1, 8, 8))), ValueError, "basis.resize"),
    BadInput("spectral-nsm-input-channels", lambda: _nsm()(jnp.zeros((2, 7, 7))), ValueError, "takes 1 input channels"),
    BadInput("spectral-fno-grid-too-small", lambda: sp.FNO(1, 1, (8, 8), width=4, depth=1, key=jax.random.key(0))(jnp.zeros((1, 8, 8))),
             ValueError, "finer grid"),
    BadInput("spectral-fno-input-channels", lambda: sp.FNO(1, 1, (2, 2), width=4, depth=1, key=jax.random.key(0))(jnp.zeros((3, 8, 8))),
             ValueError, "takes 1 input channels"),
    BadInput("spectral-gp-one-mode", lambda: periodic_gp(jax.random.key(0), 1, 0.2), ValueError, "at least 2"),
    BadInput("spectral-gp-length-scale", lambda: periodic_gp(jax.random.key(0), 8, -0.2), ValueError, "length_scale"),
    BadInput("spectral-gp-int-key", lambda: periodic_gp(0, 8, 0.2), TypeError, "key"),
    BadInput("spectral-rd-negative-nu", lambda: ReactionDiffusion(nu=-0.01), ValueError, "nu"),
    BadInput("spectral-rd-steps-not-multiple", lambda: ReactionDiffusion().solve(np.zeros(31), 32, 5, 30), ValueError,
             "multiple of `n_times - 1`"),
    BadInput("spectral-poisson-n-out", lambda: PeriodicPoisson().solve(np.zeros((31, 31)), 0), ValueError, "n_out"),
    # --- train_operator is core.fit: budgets are validated (chunk=0 used to hang, steps<=0 trained 20 steps)
    BadInput("spectral-train-chunk-zero", lambda: _train(chunk=0), ValueError, "chunk"),
    BadInput("spectral-train-steps-zero", lambda: _train(steps=0), ValueError, "steps"),
    BadInput("spectral-train-steps-negative", lambda: _train(steps=-5), ValueError, "steps"),
    BadInput("spectral-train-seconds-negative", lambda: _train(seconds=-1.0), ValueError, "seconds"),
    BadInput("spectral-train-no-steps", lambda: sp.train_operator(jnp.zeros(2), lambda m, b: 0.0, lambda k: 0.0,
                                                         optax.sgd(0.1), key=jax.random.key(0)),
             TypeError, "steps"),
    BadInput("spectral-train-int-key", lambda: _train(key=0), TypeError, "key"),
    BadInput("spectral-train-optimizer-string", lambda: sp.train_operator(jnp.zeros(2), lambda m, b: 0.0, lambda k: 0.0,
                                                                 "adam", key=jax.random.key(0), steps=4),
             TypeError, "optax"),
    BadInput("spectral-train-sample-not-callable", lambda: sp.train_operator(jnp.zeros(2), lambda m, b: 0.0, jnp.ones(2),
                                                                    optax.sgd(0.1), key=jax.random.key(0), steps=4),
             TypeError, "sample"),
    BadInput("spectral-train-nan-loss", lambda: _train(sample=lambda k: jnp.full(2, jnp.nan)), FloatingPointError, "NaN"),
    # --- bases: points outside the interval, wrong coefficient shapes, bad orders
    BadInput("spectral-chebyshev-evaluate-outside", lambda: _cheb.evaluate(jnp.zeros(8), jnp.array([2.0])), ValueError,
             "outside the interval"),
    BadInput("spectral-chebyshev-evaluate-outside-list", lambda: sp.Chebyshev(8, (0.0, 2.0)).evaluate(jnp.zeros(8), [-0.5]),
             ValueError, "outside the interval"),
    BadInput("spectral-chebyshev-evaluate-outside-jit", lambda: jax.block_until_ready(
        jax.jit(lambda x: _cheb.evaluate(jnp.zeros(8), x))(jnp.array([0.5, 1.5]))), Exception, "outside the interval"),
    BadInput("spectral-tensor-evaluate-outside", lambda: sp.TensorBasis((sp.Chebyshev(4), sp.Fourier(3))).evaluate(
        jnp.zeros((4, 5)), jnp.array([[1.5, 0.2]])), ValueError, "outside the interval"),
    BadInput("spectral-tensor-evaluate-points-shape", lambda: _basis.evaluate(jnp.zeros(_basis.shape), jnp.zeros((3, 3))),
             ValueError, "(P, 2)"),
    BadInput("spectral-chebyshev-evaluate-wrong-size", lambda: _cheb.evaluate(jnp.zeros(5), jnp.array([0.5])), ValueError,
             "stores 8"),
    BadInput("spectral-fourier-derivative-negative-order", lambda: _fourier.derivative(jnp.zeros(7), order=-1), ValueError,
             "integer >= 0"),
    BadInput("spectral-fourier-derivative-float-order", lambda: _fourier.derivative(jnp.zeros(7), order=1.5), ValueError,
             "integer >= 0"),
    BadInput("spectral-chebyshev-derivative-negative-order", lambda: _cheb.derivative(jnp.zeros(8), order=-2), ValueError,
             "integer >= 0"),
    BadInput("spectral-fourier-to-grid-wrong-size", lambda: _fourier.to_grid(jnp.zeros(6), 16), ValueError, "stores 7"),
    BadInput("spectral-fourier-to-grid-zero-points", lambda: _fourier.to_grid(jnp.zeros(7), 0), ValueError, ">= 1"),
    BadInput("spectral-chebyshev-to-grid-one-point", lambda: _cheb.to_grid(jnp.zeros(8), 1), ValueError, "n >= 2"),
    BadInput("spectral-tensor-to-grid-wrong-shape", lambda: _basis.to_grid(jnp.zeros((7, 5)), 16), ValueError,
             "coefficient shape (7, 7)"),
    BadInput("spectral-tensor-to-grid-transposed-jit", lambda: jax.jit(lambda c: _rd_basis.to_grid(c, 8))(jnp.zeros((5, 4))),
             ValueError, "coefficient shape (4, 5)"),
    BadInput("spectral-tensor-product-wrong-shape", lambda: _basis.product(jnp.zeros(_basis.shape), jnp.zeros((5, 5))),
             ValueError, "`b` must end"),
    BadInput("spectral-tensor-norm-wrong-shape", lambda: _basis.norm2(jnp.zeros((3, 3))), ValueError, "coefficient shape"),
    # --- task losses: instance shapes, batch axis, basis kind, NaN under jit, float64 truncation
    BadInput("spectral-poisson-loss-no-batch", lambda: sp.nsm_poisson_loss(_nsm(), jnp.zeros((7, 7)), _basis), ValueError,
             "batch"),
    BadInput("spectral-poisson-loss-wrong-grid", lambda: sp.nsm_poisson_loss(_nsm(), jnp.zeros((2, 9, 9)), _basis),
             ValueError, "instances of shape (7, 7)"),
    BadInput("spectral-poisson-loss-wrong-basis", lambda: sp.nsm_poisson_loss(_nsm(), jnp.zeros((2, 7, 7)), _rd_basis),
             TypeError, "poisson_basis"),
    BadInput("spectral-poisson-loss-nan-instance-jit", lambda: jax.block_until_ready(jax.jit(
        lambda f: sp.nsm_poisson_loss(_nsm(), f, _basis))(jnp.full((2, 7, 7), jnp.nan))), Exception, "NaN or inf"),
    BadInput("spectral-poisson-loss-float64-x64-off", _as_error(lambda: sp.nsm_poisson_loss(
        _nsm(), np.zeros((2, 7, 7)), _basis)), core.PrecisionWarning, "64-bit mode is off"),
    BadInput("spectral-rd-loss-negative-nu", lambda: sp.nsm_rd_loss(_nsm(_rd_basis), jnp.ones((2, 5)), _rd_basis, -0.1, 5.0),
             ValueError, "nu"),
    BadInput("spectral-rd-loss-nan-instance-jit", lambda: jax.block_until_ready(jax.jit(
        lambda u: sp.nsm_rd_loss(_nsm(_rd_basis), u, _rd_basis, 0.01, 5.0))(jnp.full((2, 5), jnp.inf))),
             Exception, "NaN or inf"),
    BadInput("spectral-rd-values-times-outside", lambda: sp.nsm_rd_values(_nsm(_rd_basis), jnp.ones((1, 5)), _rd_basis,
                                                                 jnp.array([0.0, 2.0]), 8),
             ValueError, "outside the interval"),
    BadInput("spectral-ns-loss-wrong-grid", lambda: sp.nsm_ns_loss(_nsm(_ns_basis), jnp.zeros((1, 7, 7)), _ns_basis, 0.01),
             ValueError, "instances of shape (5, 5)"),
    BadInput("spectral-rd-basis-negative-T", lambda: sp.reaction_diffusion_basis(4, 4, T=-1.0), ValueError, "T"),
    BadInput("spectral-fno-data-loss-wrong-solution-grid", lambda: sp.fno_poisson_data_loss(
        sp.FNO(1, 1, (2, 2), width=4, depth=1, key=jax.random.key(0)), jnp.zeros((2, 7, 7)), jnp.zeros((2, 8, 8)), 16),
             ValueError, "(16, 16)"),
    BadInput("spectral-resample-even-grid", lambda: sp.periodic_resample(jnp.zeros(8), 16), ValueError, "odd number"),
    # --- parametric problems
    BadInput("spectral-sample-positional-key", lambda: PeriodicPoisson(modes=4).sample(jax.random.key(0)), TypeError,
             "keyword-only"),
    BadInput("spectral-sample-no-key", lambda: PeriodicPoisson(modes=4).sample(3), TypeError, "needs a PRNG key"),
    BadInput("spectral-sample-zero-num", lambda: PeriodicPoisson(modes=4).sample(0, key=jax.random.key(0)), ValueError, "num"),
    BadInput("spectral-sample-int-key", lambda: ReactionDiffusion(modes=4).sample(key=3), TypeError, "key"),
    BadInput("spectral-poisson-solve-wrong-shape", lambda: PeriodicPoisson(modes=4).solve(np.zeros((2, 7, 7)), 16),
             ValueError, "one instance"),
    BadInput("spectral-rd-solve-nan", lambda: ReactionDiffusion(modes=4).solve(np.full(7, np.nan), 16, 5, 64), ValueError,
             "NaN"),
    BadInput("spectral-ns-solve-traced", lambda: jax.jit(lambda w: NavierStokes(modes=3).solve(w, 8, 2, 4))(jnp.zeros((5, 5))),
             TypeError, "outside jit"),
    BadInput("spectral-ns-one-time", lambda: NavierStokes(modes=3).solve(np.zeros((5, 5)), 8, 1, 4), ValueError,
             "at least 2"),
    BadInput("spectral-dirichlet-one-point", lambda: DirichletPoisson(points=1), ValueError, "at least 2"),
    BadInput("spectral-interpolant-not-square", lambda: chebyshev_interpolant_2d(np.zeros((3, 4))), ValueError, "square"),
]
