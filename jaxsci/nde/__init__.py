"""Neural ODEs on diffrax with true NFE counts and solver-heuristic regularization.

Global (Pal et al., ICML 2021) and local (Pal et al., ICML 2023) regularizers of the
solver's own error and stiffness estimates, beside the TayNODE, RNODE and STEER baselines.
"""

from jaxsci.nde._baselines import (
    RNODEField,
    TayNODEField,
    rnode_field,
    steer_end_time,
    total_derivative,
)
from jaxsci.nde._heuristics import (
    initial_step_size,
    scaled_error,
    stability_boundary,
    stiffness_estimate,
)
from jaxsci.nde._local import LocalPenalty, local_regularization
from jaxsci.nde._nfe import FirstAcceptCounter, evals_per_step, nfe_count
from jaxsci.nde._node import NeuralODE, ODESolution
from jaxsci.nde._sde import NeuralSDE
from jaxsci.nde._solver import Heuristics, HeuristicsSolver

__all__ = [
    "FirstAcceptCounter",
    "Heuristics",
    "HeuristicsSolver",
    "LocalPenalty",
    "NeuralODE",
    "NeuralSDE",
    "ODESolution",
    "RNODEField",
    "TayNODEField",
    "evals_per_step",
    "initial_step_size",
    "local_regularization",
    "nfe_count",
    "rnode_field",
    "scaled_error",
    "stability_boundary",
    "steer_end_time",
    "stiffness_estimate",
    "total_derivative",
]
