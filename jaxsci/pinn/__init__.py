"""Physics-informed neural networks with any derivative backend (exact or STDE).

The derivative backend is one argument of the loss: switching from
``taylor.Exact()`` to ``taylor.SparseSTDE(16)`` changes nothing else in user code::

    problem = pde.highdim.BallProblem(1000, "two_body", "allen_cahn")
    u = problem.hard_constraint(net)
    loss = pinn.residual_loss(problem, u, points, taylor.SparseSTDE(16), key)
"""

from ._losses import data_loss, hard_constrained, pointwise_residuals, relative_l2, residual_loss
from ._samplers import halton, r3_resample, rar_add, sobol, uniform
from ._train import TrainResult, make_step, train
from ._weighting import causal_residual_loss, causal_weights, grad_norm_weights, weighted_sum

__all__ = [
    "TrainResult",
    "causal_residual_loss",
    "causal_weights",
    "data_loss",
    "grad_norm_weights",
    "halton",
    "hard_constrained",
    "make_step",
    "pointwise_residuals",
    "r3_resample",
    "rar_add",
    "relative_l2",
    "residual_loss",
    "sobol",
    "train",
    "uniform",
    "weighted_sum",
]
