"""Diffusion-model samplers: noise schedules, step grids, parametrizations, exponential-integrator
samplers (strategy objects: ``sampler(model, schedule, x_T, grid, *, key=None) -> Sample``) and
analytic test models (Gaussian mixtures with the exact probability-flow endpoint)."""

from ._adaptive import DPMSolverAdaptive as DPMSolverAdaptive
from ._compensation import CompensationFit as CompensationFit, fit_compensation as fit_compensation
from ._custom_grid import custom_grid as custom_grid
from ._deis import DEIS as DEIS
from ._dpm_solver_v3 import (
    DPMSolverV3 as DPMSolverV3,
    ModelStatistics as ModelStatistics,
    load_statistics as load_statistics,
    model_statistics as model_statistics,
    save_statistics as save_statistics,
)
from ._euler_maruyama import EulerMaruyama as EulerMaruyama
from ._flow_matching import FlowMatching as FlowMatching
from ._flow_samplers import FlowEuler as FlowEuler, FlowHeun as FlowHeun
from ._gaussian import GaussianEps as GaussianEps
from ._gotta_go_fast import GottaGoFast as GottaGoFast
from ._grid import GRID_KINDS as GRID_KINDS, time_grid as time_grid, validate_grid as validate_grid
from ._guidance import batched_classifier_free_guidance as batched_classifier_free_guidance
from ._learned_grid import (
    GridFit as GridFit,
    LearnedGrid as LearnedGrid,
    endpoint_mse as endpoint_mse,
    fit_grid as fit_grid,
    load_grid as load_grid,
    save_grid as save_grid,
)
from ._mixture import GaussianMixture as GaussianMixture
from ._model import (
    PARAMETRIZATIONS as PARAMETRIZATIONS,
    classifier_free_guidance as classifier_free_guidance,
    dynamic_thresholding as dynamic_thresholding,
    to_data as to_data,
    to_noise as to_noise,
)
from ._quality import (
    denoising_loss as denoising_loss,
    frechet_distance as frechet_distance,
    probability_flow_reference as probability_flow_reference,
    sliced_wasserstein as sliced_wasserstein,
)
from ._restart import Restart as Restart
from ._sample import AbstractSampler as AbstractSampler, Sample as Sample
from ._samplers import (
    DDIM as DDIM,
    DPMSolver as DPMSolver,
    DPMSolverPP as DPMSolverPP,
    SDEDPMSolverPP2M as SDEDPMSolverPP2M,
)
from ._schedule import (
    EDM as EDM,
    VE as VE,
    AbstractSchedule as AbstractSchedule,
    VPCosine as VPCosine,
    VPDiscrete as VPDiscrete,
    VPLinear as VPLinear,
)
from ._singlestep import DPMSolverPP2S as DPMSolverPP2S, DPMSolverSinglestep as DPMSolverSinglestep
from ._step import StepState as StepState, set_timesteps as set_timesteps, step as step
from ._unipc import UniPC as UniPC

__all__ = [
    "DDIM",
    "DEIS",
    "EDM",
    "GRID_KINDS",
    "PARAMETRIZATIONS",
    "VE",
    "AbstractSampler",
    "AbstractSchedule",
    "CompensationFit",
    "DPMSolver",
    "DPMSolverAdaptive",
    "DPMSolverPP",
    "DPMSolverPP2S",
    "DPMSolverSinglestep",
    "DPMSolverV3",
    "EulerMaruyama",
    "FlowEuler",
    "FlowHeun",
    "FlowMatching",
    "GaussianEps",
    "GaussianMixture",
    "GottaGoFast",
    "GridFit",
    "LearnedGrid",
    "ModelStatistics",
    "Restart",
    "SDEDPMSolverPP2M",
    "Sample",
    "StepState",
    "UniPC",
    "VPCosine",
    "VPDiscrete",
    "VPLinear",
    "batched_classifier_free_guidance",
    "classifier_free_guidance",
    "custom_grid",
    "denoising_loss",
    "dynamic_thresholding",
    "endpoint_mse",
    "fit_compensation",
    "fit_grid",
    "frechet_distance",
    "load_grid",
    "load_statistics",
    "model_statistics",
    "probability_flow_reference",
    "save_grid",
    "save_statistics",
    "set_timesteps",
    "sliced_wasserstein",
    "step",
    "time_grid",
    "to_data",
    "to_noise",
    "validate_grid",
]
