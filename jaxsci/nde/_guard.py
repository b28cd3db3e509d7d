"""A step-size controller wrapper that remembers whether the last attempt was non-finite.

An adaptive controller rejects a step whose candidate or error estimate is NaN/inf and
retries a smaller one (diffrax's PID controller does so on purpose, for fields undefined in
part of the space). A field that is NaN everywhere, or a NaN initial state, then makes the
solve shrink its step until ``max_steps``: the flag kept here lets ``NeuralODE`` report such
a solve as non-finite instead of as too many steps.
"""

import diffrax
import jax
import jax.numpy as jnp

from ..core._results import nonfinite


class NonfiniteWatch(diffrax.AbstractAdaptiveStepSizeController):
    """Wraps an adaptive controller; its state's last entry is True while the latest
    attempted step had a non-finite candidate or error estimate (reset by a finite one).
    The controller state is kept for accepted and rejected steps alike; read it with
    ``SaveAt(controller_state=True)``."""

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
        return t1, (inner, nonfinite(y0))

    def adapt_step_size(self, t0, t1, y0, y1_candidate, args, y_error, error_order, state):
        inner, _ = state
        keep, next_t0, next_t1, made_jump, inner, result = self.controller.adapt_step_size(
            t0, t1, y0, y1_candidate, args, y_error, error_order, inner
        )
        bad = nonfinite((y1_candidate, y_error)) | ~jnp.isfinite(jnp.asarray(t1))
        return keep, next_t0, next_t1, made_jump, (inner, jax.lax.stop_gradient(bad)), result
