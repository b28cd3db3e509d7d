"""Shared jit/vmap-compiled primitives used by every jaxsci method family."""

from ._dtype import as_float_array, default_float_dtype, enable_x64, x64_enabled
from ._lstsq import LSTSQ_METHODS, gauss_newton_step, least_squares
from ._progress import ProgressBar, no_progress
from ._random import as_key, random_tangents, sample_without_replacement, split_like
from ._tree import jacobian_wrt_params, num_params, ravel, ravel_model
from ._validate import (
    check_finite,
    check_key,
    check_one_of,
    check_positive,
    check_positive_int,
    check_scalar_function,
    check_shape,
    is_prng_key,
)
from ._vmap import chunked_vmap

__all__ = [
    "LSTSQ_METHODS",
    "ProgressBar",
    "as_float_array",
    "as_key",
    "check_finite",
    "check_key",
    "check_one_of",
    "check_positive",
    "check_positive_int",
    "check_scalar_function",
    "check_shape",
    "chunked_vmap",
    "default_float_dtype",
    "enable_x64",
    "gauss_newton_step",
    "is_prng_key",
    "jacobian_wrt_params",
    "least_squares",
    "no_progress",
    "num_params",
    "random_tangents",
    "ravel",
    "ravel_model",
    "sample_without_replacement",
    "split_like",
    "x64_enabled",
]
