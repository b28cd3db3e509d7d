"""A step-size controller wrapper that remembers whether the last attempt was non-finite.

An adaptive controller rejects a step whose candidate or error estimate is NaN/inf and
retries a smaller one (diffrax's PID controller does so on purpose, for fields undefined in
part of the space). A field that is NaN everywhere (or beyond some boundary), or a NaN initial
state, then makes the solve shrink its step until ``max_steps``: the counts kept here let
``NeuralODE`` report such a solve as non-finite instead of as too many steps.
"""

import diffrax
import jax
import jax.numpy as jnp

from ..core._results import nonfinite


class NonfiniteWatch(diffrax.AbstractAdaptiveStepSizeController):
    """Wraps an adaptive controller; its state is ``(inner, last_bad, num_bad)``:
    whether the latest attempted step had a non-finite candidate or error estimate, and
    how many attempts had. The controller state is kept for accepted and rejected steps
    alike; read it with ``SaveAt(controller_state=True)``."""

    controller: diffrax.AbstractAdaptiveStepSizeController

    @property
    def rtol(self):
        return self.controller.rtol

    @property
    def atol(self):
        return self.controller.atol

    @property
    def norm(self):  # pyright: ignore
        return self.controller.norm

    def wrap(self, direction):
        return NonfiniteWatch(self.controller.wrap(direction))

    def init(self, terms, t0, t1, y0, dt0, args, func, error_order):
        t1, inner = self.controller.init(terms, t0, t1, y0, dt0, args, func, error_order)
        return t1, (inner, nonfinite(y0), jnp.zeros((), jnp.int32))

    def adapt_step_size(self, t0, t1, y0, y1_candidate, args, y_error, error_order, state):
        inner, _, num_bad = state
        keep, next_t0, next_t1, made_jump, inner, result = self.controller.adapt_step_size(
            t0, t1, y0, y1_candidate, args, y_error, error_order, inner
        )
        bad = jax.lax.stop_gradient(nonfinite((y1_candidate, y_error, t1)))
        return keep, next_t0, next_t1, made_jump, (inner, bad, num_bad + bad.astype(jnp.int32)), result


def stopped_by_nonfinite(state, num_rejected) -> jax.Array:
    """From a ``NonfiniteWatch`` state at the end of a failed solve: whether NaN/inf
    stopped it. True if the last attempt was non-finite, or if at least half of the
    rejected steps were (a field undefined beyond some boundary: the steps shrink towards
    it, accepted finite ones alternating with rejected NaN ones, until max_steps)."""
    _, last_bad, num_bad = state
    return last_bad | (2 * num_bad >= num_rejected) & (num_bad > 0)
