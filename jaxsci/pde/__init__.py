"""Problem definitions shared by the method families: domains, operators, initial and
boundary conditions, and exact solutions or classical reference solvers.

Submodules: :mod:`jaxsci.pde.highdim` (the STDE paper's problems on the unit ball in
R^d) and :mod:`jaxsci.pde.classical` (Poisson 2D, KdV, Burgers, Allen-Cahn 1D).
"""

from ._domain import AbstractDomain, Ball, Box, SpaceTime, Sphere
from ._problem import PDEProblem

__all__ = ["AbstractDomain", "Ball", "Box", "PDEProblem", "SpaceTime", "Sphere"]
