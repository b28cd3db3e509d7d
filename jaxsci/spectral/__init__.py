"""Neural Spectral Methods (Du, Chalapathi, Krishnapriyan, ICLR 2024) and their classical
spectral references.

* Bases: :class:`Fourier` (periodic [0, 1), real storage through rfft), :class:`Chebyshev`
  (an interval, DCT-I transform, derivative/integral recurrences), :class:`TensorBasis`
  (products of them); transforms, evaluation on any grid or at any points, dealiased
  products, Parseval norms.
* The spectral residual loss (:func:`spectral_loss`) and exact constraints
  (:func:`zero_mean`, :func:`dirichlet_mollifier`, :func:`initial_value_mollifier`).
* Models: :class:`NSM` (coefficients to coefficients) and the baseline :class:`FNO`
  (grid values), trained by :func:`train_operator` (a thin layer over
  :func:`jaxsci.core.fit` that returns its ``FitResult``) with fresh PDE parameters each step.
* Errors: ``jaxsci.core.relative_l2(pred, ref, axis=...)`` (one per instance), averaged.

Problems and float64 reference solvers live in :mod:`jaxsci.pde.parametric`.
"""

from ._chebyshev import Chebyshev as Chebyshev
from ._fourier import Fourier as Fourier
from ._loss import (
    dirichlet_mollifier as dirichlet_mollifier,
    initial_value_mollifier as initial_value_mollifier,
    navier_stokes_residual as navier_stokes_residual,
    poisson_residual as poisson_residual,
    reaction_diffusion_residual as reaction_diffusion_residual,
    spectral_loss as spectral_loss,
    stream_function as stream_function,
    zero_mean as zero_mean,
)
from ._models import (
    FNO as FNO,
    NSM as NSM,
)
from ._tasks import (
    fno_poisson_data_loss as fno_poisson_data_loss,
    fno_poisson_pinn_loss as fno_poisson_pinn_loss,
    fno_poisson_solution as fno_poisson_solution,
    fno_rd_data_loss as fno_rd_data_loss,
    fno_rd_pinn_loss as fno_rd_pinn_loss,
    fno_rd_values as fno_rd_values,
    navier_stokes_basis as navier_stokes_basis,
    nsm_ns_loss as nsm_ns_loss,
    nsm_ns_solution as nsm_ns_solution,
    nsm_ns_values as nsm_ns_values,
    nsm_poisson_loss as nsm_poisson_loss,
    nsm_poisson_solution as nsm_poisson_solution,
    nsm_rd_loss as nsm_rd_loss,
    nsm_rd_solution as nsm_rd_solution,
    nsm_rd_values as nsm_rd_values,
    periodic_resample as periodic_resample,
    poisson_basis as poisson_basis,
    reaction_diffusion_basis as reaction_diffusion_basis,
)
from ._tensor import TensorBasis as TensorBasis
from ._train import train_operator as train_operator

__all__ = [
    "FNO",
    "NSM",
    "Chebyshev",
    "Fourier",
    "TensorBasis",
    "dirichlet_mollifier",
    "fno_poisson_data_loss",
    "fno_poisson_pinn_loss",
    "fno_poisson_solution",
    "fno_rd_data_loss",
    "fno_rd_pinn_loss",
    "fno_rd_values",
    "initial_value_mollifier",
    "navier_stokes_basis",
    "navier_stokes_residual",
    "nsm_ns_loss",
    "nsm_ns_solution",
    "nsm_ns_values",
    "nsm_poisson_loss",
    "nsm_poisson_solution",
    "nsm_rd_loss",
    "nsm_rd_solution",
    "nsm_rd_values",
    "periodic_resample",
    "poisson_basis",
    "poisson_residual",
    "reaction_diffusion_basis",
    "reaction_diffusion_residual",
    "spectral_loss",
    "stream_function",
    "train_operator",
    "zero_mean",
]
