"""TENG: time-evolving natural gradient (Chen et al., ICML 2024)."""

from ._fit import gauss_newton_fit, rel_l2
from ._network import PeriodicMLP
from ._step import teng_euler, teng_heun

__all__ = ["PeriodicMLP", "gauss_newton_fit", "rel_l2", "teng_euler", "teng_heun"]
