"""Explicit Runge-Kutta tableaus (Butcher 2016, Numerical Methods for ODEs, Sec. 23)."""

from __future__ import annotations

from typing import NamedTuple


class Tableau(NamedTuple):
    """Explicit Runge-Kutta coefficients: ``a[i]`` weights the slopes of stages ``0..i-1`` for
    stage ``i`` (``a[0]`` is empty), ``b`` weights all slopes for the step."""

    name: str
    a: tuple[tuple[float, ...], ...]
    b: tuple[float, ...]

    @property
    def stages(self) -> int:
        return len(self.b)


EULER = Tableau("euler", ((),), (1.0,))
HEUN = Tableau("heun", ((), (1.0,)), (0.5, 0.5))
RK4 = Tableau(
    "rk4",
    ((), (0.5,), (0.0, 0.5), (0.0, 0.0, 1.0)),
    (1 / 6, 1 / 3, 1 / 3, 1 / 6),
)
