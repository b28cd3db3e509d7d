"""TENG: time-evolving natural gradient (Chen et al., ICML 2024), with the OBTI and TDVP
(Neural Galerkin) baselines, in any spatial dimension (the right-hand side from the
problem's :mod:`jaxsci.taylor` operators): on exactly periodic networks, or on the unit box
with Dirichlet or Neumann conditions, built into the network (:class:`BoxMLP`) or added to
every fit as rows (:class:`BoundaryRows`).

Strategies are objects: a stepper (:class:`TENG`, :class:`TDVP`, :class:`OBTI`) holds its
tableau and its fit strategy (:class:`GaussNewton`, :class:`OptaxFit`,
:class:`LevenbergMarquardt`), and :func:`evolve` runs any stepper::

    out = evolve(TENG(HEUN), Heat2D(), net, 0.01, 100, points=grid_points(24))
"""

from ._boundary import BoundaryRows as BoundaryRows
from ._evolve import Evolution as Evolution, evolve as evolve
from ._fit import (
    AbstractFit as AbstractFit,
    FitSolution as FitSolution,
    GaussNewton as GaussNewton,
    LevenbergMarquardt as LevenbergMarquardt,
    OptaxFit as OptaxFit,
    project_readout as project_readout,
)
from ._network import (
    AbstractLinearReadout as AbstractLinearReadout,
    BoxMLP as BoxMLP,
    PeriodicMLP as PeriodicMLP,
)
from ._obti import OBTI as OBTI
from ._setup import initial_network as initial_network
from ._step import (
    TENG as TENG,
    AbstractStepper as AbstractStepper,
    StepSolution as StepSolution,
    operator_values as operator_values,
)
from ._tableau import EULER as EULER, HEUN as HEUN, RK4 as RK4, Tableau as Tableau
from ._tdvp import TDVP as TDVP

__all__ = [
    "EULER",
    "HEUN",
    "OBTI",
    "RK4",
    "TDVP",
    "TENG",
    "AbstractFit",
    "AbstractLinearReadout",
    "AbstractStepper",
    "BoundaryRows",
    "BoxMLP",
    "Evolution",
    "FitSolution",
    "GaussNewton",
    "LevenbergMarquardt",
    "OptaxFit",
    "PeriodicMLP",
    "StepSolution",
    "Tableau",
    "evolve",
    "initial_network",
    "operator_values",
    "project_readout",
]
