"""The vector-field convention of ``jaxsci.nde`` and the adapter from diffrax's.

``NeuralODE`` and ``NeuralSDE`` call their fields as ``f(t, y)``: a network of the state and
time, nothing else. diffrax calls ``f(t, y, args)``; such a field (or a ``diffrax.ODETerm``)
is passed through :class:`DiffraxField`, which fixes ``args``. ``NeuralODE`` also accepts a
``diffrax.ODETerm`` directly (with ``args=None``).
"""

import inspect
from collections.abc import Callable
from typing import Any

import diffrax
import equinox as eqx


class DiffraxField(eqx.Module):
    """Adapts a diffrax vector field ``f(t, y, args)`` to jaxsci's ``f(t, y)``.

    Args:
        vector_field: a callable ``f(t, y, args)`` (what ``diffrax.ODETerm`` takes) or a
            ``diffrax.ODETerm``.
        args: the ``args`` passed on every call (a pytree: its arrays are parameters that
            every adjoint sees, as for diffrax's ``args``).

    Example:
        >>> field = DiffraxField(lambda t, y, args: -args * y, jnp.array(2.0))
        >>> float(field(0.0, jnp.array(1.0)))
        -2.0
    """

    vector_field: Callable
    args: Any = None

    def __init__(self, vector_field: Callable | diffrax.ODETerm, args: Any = None):
        if isinstance(vector_field, diffrax.ODETerm):
            vector_field = vector_field.vector_field
        if not callable(vector_field):
            raise TypeError(
                f"DiffraxField needs a callable f(t, y, args) or a diffrax.ODETerm, got "
                f"{type(vector_field).__name__}."
            )
        count = _required_positional(vector_field)
        if count is not None and count != 3:
            raise TypeError(
                f"DiffraxField wraps a diffrax field f(t, y, args), but this one takes "
                f"{count} required positional argument(s); a field f(t, y) needs no adapter: "
                f"pass it as it is."
            )
        self.vector_field = vector_field
        self.args = args

    def __call__(self, t, y):
        return self.vector_field(t, y, self.args)


def _required_positional(fn: Callable) -> int | None:
    """How many positional arguments ``fn`` requires; None if unknown or variadic."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return None
    kinds = [p.kind for p in sig.parameters.values()]
    if inspect.Parameter.VAR_POSITIONAL in kinds:
        return None
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return sum(
        1 for p in sig.parameters.values() if p.kind in positional and p.default is p.empty
    )


def as_field(vector_field: Any, name: str = "vector_field", *, allow_term: bool = True) -> Callable:
    """``vector_field`` as an ``f(t, y)`` callable, or a TypeError that says how to pass it."""
    if isinstance(vector_field, diffrax.ODETerm):
        if allow_term:
            return DiffraxField(vector_field)
        raise TypeError(
            f"`{name}` must be a callable f(t, y); for a diffrax.ODETerm pass "
            f"nde.DiffraxField(term)."
        )
    if isinstance(vector_field, diffrax.AbstractTerm):
        raise TypeError(
            f"`{name}`: {type(vector_field).__name__} is not supported; pass a callable "
            f"f(t, y), a diffrax.ODETerm or nde.DiffraxField(f, args) for f(t, y, args)."
        )
    if not callable(vector_field):
        raise TypeError(
            f"`{name}` must be a callable f(t, y) (a function or an equinox module), got "
            f"{type(vector_field).__name__}."
        )
    count = _required_positional(vector_field)
    if count == 3:
        raise TypeError(
            f"`{name}` takes three arguments, like a diffrax field f(t, y, args); jaxsci.nde "
            f"calls f(t, y). Wrap it: nde.DiffraxField(f, args) (or pass diffrax.ODETerm(f))."
        )
    if count is not None and count != 2:
        raise TypeError(
            f"`{name}` must take two positional arguments (t, y), but it requires {count}; "
            f"write it as f(t, y) (time first), e.g. `lambda t, y: -y`."
        )
    return vector_field
