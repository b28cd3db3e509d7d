"""Diffusion-model samplers: noise schedules, step grids, parametrizations, exponential-integrator
samplers and analytic test models (Gaussian mixtures with the exact probability-flow endpoint)."""

from ._adaptive import dpm_solver_adaptive as dpm_solver_adaptive
from ._deis import deis as deis
from ._gaussian import GaussianEps as GaussianEps
from ._grid import GRID_KINDS as GRID_KINDS, check_grid as check_grid, time_grid as time_grid
from ._mixture import GaussianMixture as GaussianMixture
from ._model import (
    PARAMETRIZATIONS as PARAMETRIZATIONS,
    classifier_free_guidance as classifier_free_guidance,
    dynamic_thresholding as dynamic_thresholding,
    to_data as to_data,
    to_noise as to_noise,
)
from ._samplers import (
    ddim as ddim,
    dpm_solver_multistep as dpm_solver_multistep,
    dpm_solver_pp as dpm_solver_pp,
    dpm_solver_pp_2m as dpm_solver_pp_2m,
    dpm_solver_pp_3m as dpm_solver_pp_3m,
    sde_dpm_solver_pp_2m as sde_dpm_solver_pp_2m,
)
from ._schedule import (
    EDM as EDM,
    VE as VE,
    AbstractSchedule as AbstractSchedule,
    VPCosine as VPCosine,
    VPDiscrete as VPDiscrete,
    VPLinear as VPLinear,
)
from ._restart import restart as restart
from ._singlestep import dpm_solver_pp_2s as dpm_solver_pp_2s, dpm_solver_singlestep as dpm_solver_singlestep
from ._unipc import unipc as unipc
