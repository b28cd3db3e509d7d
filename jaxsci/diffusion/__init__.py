"""Diffusion-model samplers: noise schedules, step grids, parametrizations, exponential-integrator
samplers and analytic test models (Gaussian mixtures with the exact probability-flow endpoint)."""

from ._adaptive import dpm_solver_adaptive as dpm_solver_adaptive
from ._deis import deis as deis
from ._gaussian import GaussianEps as GaussianEps
from ._grid import GRID_KINDS as GRID_KINDS
from ._grid import check_grid as check_grid
from ._grid import time_grid as time_grid
from ._mixture import GaussianMixture as GaussianMixture
from ._model import (
    PARAMETRIZATIONS as PARAMETRIZATIONS,
)
from ._model import (
    classifier_free_guidance as classifier_free_guidance,
)
from ._model import (
    dynamic_thresholding as dynamic_thresholding,
)
from ._model import (
    to_data as to_data,
)
from ._model import (
    to_noise as to_noise,
)
from ._restart import restart as restart
from ._samplers import (
    ddim as ddim,
)
from ._samplers import (
    dpm_solver_multistep as dpm_solver_multistep,
)
from ._samplers import (
    dpm_solver_pp as dpm_solver_pp,
)
from ._samplers import (
    dpm_solver_pp_2m as dpm_solver_pp_2m,
)
from ._samplers import (
    dpm_solver_pp_3m as dpm_solver_pp_3m,
)
from ._samplers import (
    sde_dpm_solver_pp_2m as sde_dpm_solver_pp_2m,
)
from ._schedule import (
    EDM as EDM,
)
from ._schedule import (
    VE as VE,
)
from ._schedule import (
    AbstractSchedule as AbstractSchedule,
)
from ._schedule import (
    VPCosine as VPCosine,
)
from ._schedule import (
    VPDiscrete as VPDiscrete,
)
from ._schedule import (
    VPLinear as VPLinear,
)
from ._singlestep import dpm_solver_pp_2s as dpm_solver_pp_2s
from ._singlestep import dpm_solver_singlestep as dpm_solver_singlestep
from ._unipc import unipc as unipc
