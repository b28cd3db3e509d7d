"""Physics-informed neural networks with any derivative backend (exact or STDE).

The derivative backend is one argument of the loss: switching from
``taylor.Exact()`` to ``taylor.SparseSTDE(16)`` changes nothing else in user code::

    problem = pde.highdim.BallProblem(1000, "two_body", "allen_cahn")
    u = problem.hard_constraint(net)
    loss = pinn.residual_loss(problem, u, points, taylor.SparseSTDE(16), key=key)

Training is :func:`jaxsci.core.fit` with fresh collocation points every step
(:func:`train`); the test error is ``core.relative_l2(jax.vmap(u)(test), exact)``.

Networks (:class:`PINNMLP`, :class:`ModifiedMLP`, with :class:`FourierFeatures` inputs and
random weight factorization :class:`RWFLinear`), exact Dirichlet conditions
(:class:`DirichletAnsatz` with :class:`BoxDistance` or :class:`BallDistance`) and
:func:`plot_field` complete the toolkit.
"""

from ._constraints import (
    BallDistance as BallDistance,
    BoxDistance as BoxDistance,
    DirichletAnsatz as DirichletAnsatz,
)
from ._losses import (
    data_loss as data_loss,
    hard_constrained as hard_constrained,
    pointwise_residuals as pointwise_residuals,
    residual_loss as residual_loss,
)
from ._models import (
    PINNMLP as PINNMLP,
    FourierFeatures as FourierFeatures,
    ModifiedMLP as ModifiedMLP,
    RWFLinear as RWFLinear,
)
from ._optimizers import (
    AbstractLineSearch as AbstractLineSearch,
    BacktrackingLineSearch as BacktrackingLineSearch,
    GaussNewtonState as GaussNewtonState,
    GridLineSearch as GridLineSearch,
    adam_then_lbfgs as adam_then_lbfgs,
    engd as engd,
    gauss_newton as gauss_newton,
)
from ._plot import plot_field as plot_field
from ._residuals import (
    DirichletBC as DirichletBC,
    NeumannBC as NeumannBC,
    PDEResidual as PDEResidual,
    PeriodicBC as PeriodicBC,
)
from ._samplers import (
    halton as halton,
    r3_resample as r3_resample,
    rar_add as rar_add,
    sobol as sobol,
    uniform as uniform,
)
from ._step import make_step as make_step
from ._train import train as train
from ._weighting import (
    causal_residual_loss as causal_residual_loss,
    causal_weights as causal_weights,
    grad_norm_weights as grad_norm_weights,
    weighted_sum as weighted_sum,
)

__all__ = [
    "PINNMLP",
    "AbstractLineSearch",
    "BacktrackingLineSearch",
    "BallDistance",
    "BoxDistance",
    "DirichletAnsatz",
    "DirichletBC",
    "FourierFeatures",
    "GaussNewtonState",
    "GridLineSearch",
    "ModifiedMLP",
    "NeumannBC",
    "PDEResidual",
    "PeriodicBC",
    "RWFLinear",
    "adam_then_lbfgs",
    "causal_residual_loss",
    "causal_weights",
    "data_loss",
    "engd",
    "gauss_newton",
    "grad_norm_weights",
    "halton",
    "hard_constrained",
    "make_step",
    "plot_field",
    "pointwise_residuals",
    "r3_resample",
    "rar_add",
    "residual_loss",
    "sobol",
    "train",
    "uniform",
    "weighted_sum",
]
