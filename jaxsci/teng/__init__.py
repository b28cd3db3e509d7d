"""TENG: time-evolving natural gradient (Chen et al., ICML 2024), with the OBTI and TDVP
(Neural Galerkin) baselines, on exactly periodic networks."""

from ._evolve import evolve
from ._fit import gauss_newton_fit, levenberg_marquardt_fit, project_readout, rel_l2
from ._network import PeriodicMLP
from ._obti import obti_step, optax_fit
from ._step import operator_values, teng_euler, teng_heun, teng_rk_step
from ._tableau import EULER, HEUN, RK4, Tableau
from ._tdvp import tdvp_step, tdvp_velocity

__all__ = [
    "EULER",
    "HEUN",
    "RK4",
    "PeriodicMLP",
    "Tableau",
    "evolve",
    "gauss_newton_fit",
    "levenberg_marquardt_fit",
    "obti_step",
    "operator_values",
    "optax_fit",
    "project_readout",
    "rel_l2",
    "tdvp_step",
    "tdvp_velocity",
    "teng_euler",
    "teng_heun",
    "teng_rk_step",
]
