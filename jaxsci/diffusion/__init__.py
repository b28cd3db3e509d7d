"""Diffusion-model samplers: noise schedules, step grids, samplers, analytic test models."""

from ._gaussian import GaussianEps as GaussianEps
from ._grid import time_grid as time_grid
from ._samplers import ddim as ddim, dpm_solver_pp_2m as dpm_solver_pp_2m
from ._schedule import VPLinear as VPLinear
