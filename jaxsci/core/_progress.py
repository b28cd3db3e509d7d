"""A tqdm-style progress bar that jitted loops (``lax.scan``, ``fori_loop``) can feed.

The bar lives on the host; ``tick`` inside traced code sends the step (and optional
metrics) back through ``jax.debug.callback`` every ``every`` steps only, so a long scan
pays almost nothing for it.
"""

from __future__ import annotations

import sys
import time
from typing import IO

import jax
import numpy as np


class ProgressBar:
    """Host-side progress bar.

    Example:
        >>> bar = ProgressBar(total=1000, desc="train", every=100)
        >>> def body(carry, i):
        ...     carry = carry + 1.0
        ...     bar.tick(i, loss=carry)
        ...     return carry, None
        >>> _ = jax.jit(lambda: jax.lax.scan(body, 0.0, jnp.arange(1000)))()
        >>> bar.close()

    Args:
        total: number of steps (``tick`` receives 0-based step indices).
        desc: a short label.
        every: report once per this many steps (default: about 20 reports per run).
        file: stream to write to (default ``sys.stderr``).
        enabled: ``False`` silences the bar (``tick`` then emits no callback at all).
    """

    def __init__(
        self,
        total: int,
        desc: str = "",
        every: int | None = None,
        file: IO[str] | None = None,
        enabled: bool = True,
    ):
        if total < 1:
            raise ValueError(f"`total` must be >= 1, got {total}.")
        self.total = int(total)
        self.desc = desc
        self.every = int(every) if every else max(1, self.total // 20)
        self.file = file if file is not None else sys.stderr
        self.enabled = enabled
        self.start = time.perf_counter()
        self.last_step = -1
        self.last_metrics: dict[str, float] = {}

    def _render(self, step: int, metrics: dict[str, float]) -> str:
        done = step + 1
        frac = done / self.total
        elapsed = time.perf_counter() - self.start
        rate = done / elapsed if elapsed > 0 else float("inf")
        width = 24
        filled = int(round(width * frac))
        text = " ".join(f"{k}={v:.3e}" for k, v in metrics.items())
        label = f"{self.desc}: " if self.desc else ""
        return (
            f"{label}[{'#' * filled}{'.' * (width - filled)}] {done}/{self.total} "
            f"{rate:.1f} it/s {text}".rstrip()
        )

    def update(self, step: int, **metrics: float) -> None:
        """Report progress from the host (called by ``tick``; may be called directly)."""
        if not self.enabled or step <= self.last_step:
            return
        self.last_step = step
        self.last_metrics = metrics
        line = self._render(step, metrics)
        if getattr(self.file, "isatty", lambda: False)():
            self.file.write("\r" + line + ("\n" if step + 1 >= self.total else ""))
        else:
            self.file.write(line + "\n")
        self.file.flush()

    def tick(self, step, **metrics) -> None:
        """Inside traced code: report ``step`` (and scalar metrics) every ``every`` steps."""
        if not self.enabled:
            return
        names = tuple(metrics)

        def host(step_value, *values):
            # Under vmap the arguments arrive batched: report the first member.
            s = int(np.ravel(np.asarray(step_value))[0])
            vals = {n: float(np.ravel(np.asarray(v))[0]) for n, v in zip(names, values)}
            self.update(s, **vals)

        def report():
            jax.debug.callback(host, step, *metrics.values())

        due = (step % self.every == 0) | (step == self.total - 1)
        jax.lax.cond(due, report, lambda: None)

    def close(self) -> None:
        """Print the final line if the last step was not reported yet."""
        if self.enabled and self.last_step >= 0 and self.last_step + 1 < self.total:
            self.file.write(self._render(self.last_step, self.last_metrics) + " (stopped)\n")
            self.file.flush()


def run_progress(total: int, desc: str = "", every: int | None = None,
                 file: IO[str] | None = None):
    """``tick(step, **metrics)`` for a loop that is compiled once and run many times.

    A :class:`ProgressBar` made at trace time would be the same bar for every run of the
    compiled function; here the host starts a fresh bar whenever step 0 arrives, so each
    run reports from its own start. ``tick`` reports every ``every`` steps and the last.

    Example:
        >>> tick = run_progress(100, "evolve", every=50, file=sys.stdout)
        >>> f = jax.jit(lambda: jax.lax.scan(lambda c, i: (tick(i, res=c) or c, None), 0.0,
        ...                                  jnp.arange(100))[0])
        >>> _ = jax.block_until_ready(f())  # doctest: +ELLIPSIS
        evolve: [......] 1/100 ... res=0.000e+00
        evolve: ...
        evolve: [####...] 100/100 ...
    """
    if total < 1:
        raise ValueError(f"`total` must be >= 1, got {total}.")
    every = int(every) if every else max(1, int(total) // 20)
    bars: list[ProgressBar] = []

    def host(names, step_value, *values):
        s = int(np.ravel(np.asarray(step_value))[0])
        if s == 0 or not bars:
            bars[:] = [ProgressBar(total, desc, every, file)]
        bars[0].update(s, **{n: float(np.ravel(np.asarray(v))[0]) for n, v in zip(names, values)})

    def tick(step, **metrics):
        names = tuple(metrics)

        def report():
            jax.debug.callback(lambda *a: host(names, *a), step, *metrics.values())

        jax.lax.cond((step % every == 0) | (step == total - 1), report, lambda: None)

    return tick


def no_progress() -> ProgressBar:
    """A disabled bar, for code paths that take an optional progress argument."""
    return ProgressBar(total=1, enabled=False)


__all__ = ["ProgressBar", "no_progress", "run_progress"]
