"""Neural ODEs on diffrax with true NFE counts and solver-heuristic regularization.

Global (Pal et al., ICML 2021) and local (Pal et al., ICML 2023) regularizers of the
solver's own error and stiffness estimates, beside the TayNODE, RNODE and STEER baselines.
Vector fields are called as ``f(t, y)``; ``DiffraxField(f, args)`` adapts diffrax's
``f(t, y, args)``. Every solve returns a ``result`` code (``jaxsci.core.RESULTS``).
"""

from ._baselines import (
    RNODEField as RNODEField,
    TayNODEField as TayNODEField,
    rnode_field as rnode_field,
    steer_end_time as steer_end_time,
    total_derivative as total_derivative,
)
from ._budget import BudgetWeight as BudgetWeight, budget_optimizer as budget_optimizer
from ._count import (
    EvaluationCounter as EvaluationCounter,
    NFEReport as NFEReport,
    nfe_report as nfe_report,
)
from ._field import DiffraxField as DiffraxField
from ._heuristics import (
    initial_step_size as initial_step_size,
    jacobian_spectral_radius as jacobian_spectral_radius,
    scaled_error as scaled_error,
    stability_boundary as stability_boundary,
    stiffness_estimate as stiffness_estimate,
)
from ._local import LocalPenalty as LocalPenalty, local_regularization as local_regularization
from ._nfe import (
    FirstAcceptCounter as FirstAcceptCounter,
    evals_per_step as evals_per_step,
    nfe_count as nfe_count,
)
from ._node import NeuralODE as NeuralODE, ODESolution as ODESolution
from ._sde import NeuralSDE as NeuralSDE
from ._solve import Solve as Solve, solve as solve
from ._solver import (
    Heuristics as Heuristics,
    HeuristicsSolver as HeuristicsSolver,
    read_heuristics as read_heuristics,
)

__all__ = [
    "BudgetWeight",
    "DiffraxField",
    "EvaluationCounter",
    "FirstAcceptCounter",
    "Heuristics",
    "HeuristicsSolver",
    "LocalPenalty",
    "NFEReport",
    "NeuralODE",
    "NeuralSDE",
    "ODESolution",
    "RNODEField",
    "Solve",
    "TayNODEField",
    "budget_optimizer",
    "evals_per_step",
    "initial_step_size",
    "jacobian_spectral_radius",
    "local_regularization",
    "nfe_count",
    "nfe_report",
    "read_heuristics",
    "rnode_field",
    "scaled_error",
    "solve",
    "stability_boundary",
    "steer_end_time",
    "stiffness_estimate",
    "total_derivative",
]
