"""What jaxsci's own benchmarks and tests need from the inside. Not public API: names here
may change without notice."""

from ..core._dtype import warn_if_truncated as warn_if_truncated
from ..core._fit import make_step as make_step
from ..core._host import to_host as to_host
from ..core._progress import no_progress as no_progress, run_progress as run_progress
from ..core._random import as_key as as_key
from ..core._results import nonfinite as nonfinite, raise_if_failed as raise_if_failed
from ..core._validate import (
    check_finite as check_finite,
    check_key as check_key,
    check_one_of as check_one_of,
    check_positive as check_positive,
    check_positive_int as check_positive_int,
    check_real as check_real,
    check_scalar_function as check_scalar_function,
    check_shape as check_shape,
    is_prng_key as is_prng_key,
)

__all__ = [
    "as_key",
    "check_finite",
    "check_key",
    "check_one_of",
    "check_positive",
    "check_positive_int",
    "check_real",
    "check_scalar_function",
    "check_shape",
    "is_prng_key",
    "make_step",
    "no_progress",
    "nonfinite",
    "raise_if_failed",
    "run_progress",
    "to_host",
    "warn_if_truncated",
]
