"""Explicit Runge-Kutta tableaus (Butcher 2016, Numerical Methods for ODEs, Sec. 23)."""

from __future__ import annotations

import math

import equinox as eqx


class Tableau(eqx.Module):
    """Explicit Runge-Kutta coefficients of an ``s``-stage method.

    ``a[i]`` weights the slopes of stages ``0..i-1`` for stage ``i`` (so ``a[0]`` is empty
    and ``a[i]`` has ``i`` entries) and ``b`` weights all ``s`` slopes for the step
    (Butcher 2016, Sec. 23). The constants :data:`EULER`, :data:`HEUN` and :data:`RK4` are
    the usual methods; any other explicit tableau works the same way.

    Attributes:
        name: a label (used in tables and error messages).
        a: the strictly lower triangular part, one tuple per stage.
        b: the weights of the step.

    Example:
        >>> midpoint = Tableau("midpoint", ((), (0.5,)), (0.0, 1.0))
        >>> midpoint.stages
        2
    """

    name: str = eqx.field(static=True)
    a: tuple[tuple[float, ...], ...] = eqx.field(static=True)
    b: tuple[float, ...] = eqx.field(static=True)

    def __check_init__(self):
        if not isinstance(self.name, str):
            raise TypeError(f"`name` must be a string, got {type(self.name).__name__}.")
        if len(self.b) < 1 or len(self.a) != len(self.b):
            raise ValueError(
                f"a tableau needs one row of `a` per weight in `b` (at least one stage); got "
                f"{len(self.a)} rows and {len(self.b)} weights."
            )
        for i, row in enumerate(self.a):
            if len(row) != i:
                raise ValueError(
                    f"row {i} of `a` must have {i} entries (an explicit method: stage {i} uses "
                    f"the slopes of stages 0..{i - 1}), got {len(row)}."
                )
        coeffs = [c for row in self.a for c in row] + list(self.b)
        if not all(isinstance(c, (int, float)) and math.isfinite(c) for c in coeffs):
            raise ValueError(f"the coefficients of a tableau must be finite numbers, got {coeffs}.")

    @property
    def stages(self) -> int:
        """The number of stages ``s``."""
        return len(self.b)


EULER = Tableau("euler", ((),), (1.0,))
HEUN = Tableau("heun", ((), (1.0,)), (0.5, 0.5))
RK4 = Tableau("rk4", ((), (0.5,), (0.0, 0.5), (0.0, 0.0, 1.0)), (1 / 6, 1 / 3, 1 / 3, 1 / 6))
