"""A quick look at a 1D or 2D field: prediction, reference and their difference."""

from __future__ import annotations

import numbers
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from ..core import default_float_dtype, relative_l2
from ..pde import AbstractDomain, Ball, Box, SpaceTime
from ..pde.geometry import AbstractGeometry


def _concrete(value, name: str) -> np.ndarray:
    if isinstance(value, jax.core.Tracer):
        raise TypeError(f"plot_field needs concrete bounds, got traced `{name}` (call it outside jax.jit).")
    return np.atleast_1d(np.asarray(value, dtype=float))


def _region(domain):
    """``(lower, upper, inside)``: the plotting box and, for a non-box domain, its mask."""
    if isinstance(domain, Box):
        return _concrete(domain.lower, "lower"), _concrete(domain.upper, "upper"), None
    if isinstance(domain, SpaceTime) and isinstance(domain.space, Box):
        lower, upper, _ = _region(domain.space)
        return np.append(lower, domain.t0), np.append(upper, domain.t1), None
    if isinstance(domain, Ball):
        r = float(_concrete(domain.radius, "radius")[0])
        return np.full(domain.dim, -r), np.full(domain.dim, r), domain.contains
    if isinstance(domain, AbstractGeometry):
        lower, upper = domain.bounds
        return np.asarray(lower, float), np.asarray(upper, float), domain.contains
    if isinstance(domain, AbstractDomain):
        raise TypeError(
            f"plot_field cannot find the extent of a {type(domain).__name__}: pass bounds "
            "(lower, upper) instead."
        )
    if isinstance(domain, (tuple, list)) and len(domain) == 2:
        try:
            lower, upper = (np.atleast_1d(np.asarray(b, dtype=float)) for b in domain)
        except (TypeError, ValueError):
            lower = upper = None
        if lower is not None and upper is not None and lower.ndim == 1 and lower.shape == upper.shape:
            if not (np.all(np.isfinite(lower)) and np.all(np.isfinite(upper)) and np.all(upper > lower)):
                raise ValueError(f"plot_field needs finite bounds with upper > lower, got {domain!r}.")
            return lower, upper, None
    raise TypeError(
        "`domain` must be a jaxsci.pde domain (Box, SpaceTime of a Box, Ball, a "
        "pde.geometry shape) or bounds (lower, upper), e.g. (0.0, 1.0) or "
        f"([0.0, 0.0], [1.0, 1.0]); got {domain!r}."
    )


def _values(fn: Callable, points, name: str) -> np.ndarray:
    if not callable(fn):
        raise TypeError(f"`{name}` must be a callable of one point, got {type(fn).__name__}.")
    out = jax.vmap(fn)(points)
    if getattr(out, "shape", None) != points.shape[:1]:
        raise ValueError(
            f"`{name}` must return a scalar at one point, got shape "
            f"{tuple(getattr(out, 'shape', ()))[1:]}."
        )
    return np.asarray(out, dtype=float)


def plot_field(
    u: Callable,
    reference: Callable | None,
    domain,
    *,
    resolution: int | None = None,
    fig=None,
    title: str | None = None,
    cmap: str = "viridis",
):
    """Plot a field ``u`` of one or two coordinates beside a reference and the error.

    * 1D: two panels sharing the x axis: ``u`` and ``reference`` as lines, then
      ``|u - reference|``.
    * 2D: three ``imshow`` panels with colorbars: ``u``, ``reference`` (one colour scale
      for both) and ``|u - reference|``; for a non-box domain (``pde.Ball``, a
      ``pde.geometry`` shape) the points outside are left blank.

    The error panel's title gives the relative L2 error on the grid
    (:func:`jaxsci.core.relative_l2`). With ``reference=None`` only ``u`` is drawn (one
    panel). matplotlib is imported here, not with :mod:`jaxsci.pinn` (the ``demo`` extra
    installs it).

    Args:
        u: the prediction, a callable of one point returning a scalar (e.g. a trained
            network, or an ansatz such as :class:`DirichletAnsatz`).
        reference: the reference solution (same signature), or ``None``.
        domain: a ``pde.Box``, a ``pde.SpaceTime`` of a box (time on the vertical axis),
            a ``pde.Ball``, a ``pde.geometry`` shape, or bounds ``(lower, upper)``:
            numbers for 1D (``(0.0, 1.0)``), sequences for 2D.
        resolution: grid points per axis (default 400 in 1D, 128 in 2D; >= 2).
        fig: an empty matplotlib figure to draw into (default: a new ``pyplot`` figure).
        title: the figure's title.
        cmap: the colormap of the 2D panels.

    Returns:
        The matplotlib figure.

    Example:
        >>> fig = plot_field(lambda x: jnp.sin(x[0]), lambda x: x[0], (0.0, 1.0), resolution=50)
        >>> len(fig.axes)
        2
    """
    lower, upper, inside = _region(domain)
    dim = lower.shape[0]
    if dim not in (1, 2):
        raise ValueError(
            f"plot_field draws fields of 1 or 2 coordinates, got a {dim}-dimensional domain; "
            "plot a slice, e.g. lambda p: u(jnp.array([p[0], p[1], 0.5])) on 2D bounds."
        )
    if resolution is None:
        resolution = 400 if dim == 1 else 128
    if isinstance(resolution, bool) or not isinstance(resolution, numbers.Integral) or resolution < 2:
        raise ValueError(f"`resolution` must be an integer >= 2, got {resolution!r}.")
    if title is not None and not isinstance(title, str):
        raise TypeError(f"`title` must be a string or None, got {type(title).__name__}.")
    try:
        import matplotlib.pyplot as plt
    except ImportError as err:
        raise ImportError(
            "plot_field needs matplotlib: `pip install matplotlib` (or `pip install "
            "'jaxsci[demo]'`)."
        ) from err
    from matplotlib.figure import Figure

    if fig is not None and not isinstance(fig, Figure):
        raise TypeError(f"`fig` must be a matplotlib Figure or None, got {type(fig).__name__}.")

    axes_1d = [np.linspace(lower[i], upper[i], resolution) for i in range(dim)]
    grid = np.stack([g.ravel() for g in np.meshgrid(*axes_1d, indexing="xy")], axis=-1)
    points = jnp.asarray(grid, default_float_dtype())
    pred = _values(u, points, "u")
    ref = None if reference is None else _values(reference, points, "reference")
    if inside is not None:
        outside = ~np.asarray(inside(points))
        pred = np.where(outside, np.nan, pred)
        ref = None if ref is None else np.where(outside, np.nan, ref)
    error_title = "absolute error"
    if ref is not None:
        keep = np.isfinite(ref)
        if keep.any() and np.any(ref[keep] != 0):
            rel = float(relative_l2(jnp.asarray(pred[keep]), jnp.asarray(ref[keep])))
            error_title = f"absolute error (relative L2 {rel:.2e})"

    panels = 1 if ref is None else (2 if dim == 1 else 3)
    if fig is None:
        size = (6.4, 4.8 if panels == 2 else 3.6) if dim == 1 else (4.4 * panels, 3.8)
        fig = plt.figure(figsize=size)
    if dim == 1:
        x = axes_1d[0]
        axes = np.atleast_1d(fig.subplots(panels, 1, sharex=True, squeeze=False)[:, 0])
        axes[0].plot(x, pred, label="prediction")
        if ref is not None:
            axes[0].plot(x, ref, "--", label="reference")
            axes[0].legend()
            axes[1].plot(x, np.abs(pred - ref), color="C3")
            axes[1].set_ylabel("|prediction - reference|")
            axes[1].set_title(error_title)
        axes[0].set_ylabel("u")
        axes[-1].set_xlabel("x")
    else:
        shape = (resolution, resolution)
        extent = (lower[0], upper[0], lower[1], upper[1])
        fields = [("prediction", pred)] if ref is None else [
            ("prediction", pred), ("reference", ref), (error_title, np.abs(pred - ref))]
        both = pred if ref is None else np.concatenate([pred, ref])
        vmin, vmax = (np.nanmin(both), np.nanmax(both)) if np.isfinite(both).any() else (None, None)
        axes = np.atleast_1d(fig.subplots(1, panels, squeeze=False)[0])
        for k, (ax, (name, values)) in enumerate(zip(axes, fields)):
            scale = {} if k == 2 else {"vmin": vmin, "vmax": vmax}
            image = ax.imshow(values.reshape(shape), origin="lower", extent=extent,
                              aspect="auto", cmap=cmap, **scale)
            fig.colorbar(image, ax=ax)
            ax.set_title(name)
            ax.set_xlabel("x")
            ax.set_ylabel("t" if isinstance(domain, SpaceTime) else "y")
    if title is not None:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
