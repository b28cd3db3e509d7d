"""Problem definitions shared by the method families: domains, operators, initial and
boundary conditions, and exact solutions or classical reference solvers.
"""

from ._domain import AbstractDomain, Ball, Box, SpaceTime, Sphere
from ._problem import PDEProblem

__all__ = ["AbstractDomain", "Ball", "Box", "PDEProblem", "SpaceTime", "Sphere"]
