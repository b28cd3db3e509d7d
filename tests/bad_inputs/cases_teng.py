import equinox as eqx
import jax
import jax.numpy as jnp
import lineax as lx
import optax
from _case import BadInput

from jaxsci import taylor
from jaxsci.pde.evolution import (
    AllenCahn2D,
    BoxAllenCahn,
    BoxHeat,
    Burgers2D,
    Heat2D,
    box_grid,
    grid_points,
)
from jaxsci.teng import (
    EULER,
    OBTI,
    TDVP,
    TENG,
    BoundaryRows,
    BoxMLP,
    GaussNewton,
    LevenbergMarquardt,
    OptaxFit,
    PeriodicMLP,
    Tableau,
    evolve,
    initial_network,
    project_readout,
)

_K = jax.random.key(0)
_SVD = dict(solver=lx.SVD(rcond=1e-4), damping=0.0)


def _net():
    return PeriodicMLP(2, 2, 4, 1, key=_K)


def _pts():
    return grid_points(4)


def _plain():
    return eqx.nn.MLP(2, "scalar", 4, 1, key=_K)


def _euler():
    return TENG(EULER, fit=GaussNewton(iterations=1, **_SVD))


def _step(stepper, dt=0.1, points=None, problem=None, model=None, **kw):
    return lambda: stepper(problem or Heat2D(), model or _net(),
                           _pts() if points is None else points, 0.0, dt, **kw)


def _evolve(stepper, dt=0.01, num_steps=1, **kw):
    kw.setdefault("points", _pts())
    return lambda: evolve(stepper, Heat2D(), _net(), dt, num_steps, **kw)


def _traced_dt(dt):
    run = eqx.filter_jit(lambda m, d: evolve(TDVP(), Heat2D(), m, d, 1, points=_pts()).model)
    return lambda: jax.block_until_ready(run(_net(), jnp.asarray(dt)))


def _traced_step_dt(dt):
    run = eqx.filter_jit(lambda m, d: _euler()(Heat2D(), m, _pts(), 0.0, d).model)
    return lambda: jax.block_until_ready(run(_net(), jnp.asarray(dt)))


def _box(condition=None):
    return BoxMLP(2, 4, 1, key=_K, condition=condition)


def _box_step(stepper, problem=None, model=None, points=None, **kw):
    problem = problem or BoxHeat(2, "dirichlet")
    model = model or _box(problem.condition)
    return lambda: stepper(problem, model, box_grid(2, 4) if points is None else points, 0.0,
                           0.01, **kw)


_ROWS = BoundaryRows.of(BoxHeat(2, "dirichlet"), 4)

CASES = [
    BadInput("teng-dt-zero", _step(_euler(), dt=0.0), ValueError, "`dt` must be a positive number"),
    BadInput("teng-dt-negative", _step(TENG(), dt=-0.1), ValueError, "dt"),
    BadInput("teng-tdvp-dt-zero", _step(TDVP(), dt=0.0), ValueError, "dt"),
    BadInput("teng-points-outside", _step(_euler(), points=grid_points(4) + 7.0), ValueError, "[0, 2pi)^2"),
    BadInput("teng-points-negative", _step(TENG(), points=grid_points(4) - 1.0), ValueError, "wrap them"),
    BadInput("teng-points-shape", _step(_euler(), points=jnp.zeros((4, 3))), ValueError, "shape (n, 2)"),
    BadInput("teng-not-periodic", _step(_euler(), model=_plain()), ValueError, "not 2pi-periodic"),
    BadInput("teng-obti-not-periodic", _step(OBTI(optax.adam(1e-3)), problem=AllenCahn2D(), model=_plain()), ValueError, "PeriodicMLP"),
    BadInput("teng-problem-without-operator", _step(_euler(), problem=object()), TypeError, "AbstractEvolutionProblem"),
    BadInput("teng-iterations-zero", lambda: GaussNewton(iterations=0), ValueError, "positive integer"),
    BadInput("teng-columns-no-key", _step(TENG(fit=GaussNewton(num_columns=3))), TypeError, "`key` is required"),
    BadInput("teng-obti-optimizer-string", lambda: OBTI("sgd"), TypeError, "optax"),
    BadInput("teng-evolve-num-steps", _evolve(_euler(), num_steps=0), ValueError, "num_steps"),
    BadInput("teng-lm-iterations", lambda: LevenbergMarquardt(iterations=0), ValueError, "iterations"),
    BadInput("teng-periodic-mlp-width", lambda: PeriodicMLP(2, 0, 4, 1, key=_K), ValueError, "positive integer"),
    BadInput("teng-periodic-mlp-key", lambda: PeriodicMLP(2, 2, 4, 1, key=0), TypeError, "jax.random.key(seed)"),
    BadInput("teng-reference-times-order", lambda: AllenCahn2D().reference((1.0, 0.5)), ValueError, "increasing"),
    BadInput("teng-reference-times-multiple", lambda: AllenCahn2D().reference((0.5,), n=16, dt=0.3), ValueError, "multiple of dt"),
    BadInput("teng-grid-points-zero", lambda: grid_points(0), ValueError, "positive integer"),
    BadInput("teng-lm-target-shape", lambda: LevenbergMarquardt()(_net(), _pts(), jnp.zeros(3)), ValueError, "must have shape (n,)"),
    # new in 0.2
    BadInput("teng-integer-points", _step(_euler(), points=jnp.zeros((4, 2), jnp.int32)), TypeError, "floating-point"),
    BadInput("teng-integer-points-evolve", _evolve(_euler(), points=jnp.ones((4, 2), jnp.int32)), TypeError, "dtype int32"),
    BadInput("teng-traced-negative-dt", _traced_dt(-0.01), Exception, "`dt` must be > 0"),
    BadInput("teng-traced-nan-dt", _traced_step_dt(float("nan")), Exception, "`dt` must be > 0"),
    BadInput("teng-heat-nu-negative", lambda: Heat2D(nu=-1), ValueError, "`nu` must be a positive number"),
    BadInput("teng-allen-cahn-eps-zero", lambda: AllenCahn2D(eps=0.0), ValueError, "`eps`"),
    BadInput("teng-burgers-nu-inf", lambda: Burgers2D(nu=float("inf")), ValueError, "finite"),
    BadInput("teng-evolve-columns-no-key", _evolve(TENG(fit=GaussNewton(num_columns=2, **_SVD))), TypeError, "`key` is required"),
    BadInput("teng-evolve-bad-key", _evolve(_euler(), key=3), TypeError, "PRNG key"),
    BadInput("teng-evolve-stepper-type", lambda: evolve(Heat2D(), _net(), Heat2D(), 0.1, 1, points=_pts()), TypeError, "stepper"),
    BadInput("teng-evolve-problem-type", lambda: evolve(_euler(), "heat", _net(), 0.1, 1, points=_pts()), TypeError, "AbstractEvolutionProblem"),
    BadInput("teng-evolve-num-steps-float", _evolve(_euler(), num_steps=2.0), TypeError, "num_steps"),
    BadInput("teng-evolve-evaluate", _evolve(_euler(), evaluate=3), TypeError, "evaluate"),
    BadInput("teng-solver-string", lambda: GaussNewton(solver="svd"), TypeError, "lineax"),
    BadInput("teng-tdvp-solver-string", lambda: TDVP(solver="normal_cholesky"), TypeError, "lineax.Normal"),
    BadInput("teng-damping-negative", lambda: GaussNewton(damping=-1e-12), ValueError, "damping"),
    BadInput("teng-columns-zero", lambda: GaussNewton(num_columns=0), ValueError, "num_columns"),
    BadInput("teng-columns-too-many", lambda: GaussNewton(num_columns=10_000, **_SVD)(_net(), _pts(), jnp.zeros(16), key=_K), ValueError, "exceeds"),
    BadInput("teng-tableau-type", lambda: TENG(tableau="heun"), TypeError, "Tableau"),
    BadInput("teng-tableau-rows", lambda: Tableau("bad", ((), (0.5, 0.5)), (0.5, 0.5)), ValueError, "row 1 of `a`"),
    BadInput("teng-tableau-lengths", lambda: Tableau("bad", ((),), (0.5, 0.5)), ValueError, "one row of `a`"),
    BadInput("teng-fit-type", lambda: TENG(fit=optax.adam(1e-3)), TypeError, "fit strategy"),
    BadInput("teng-obti-steps", lambda: OBTI(optax.adam(1e-3), steps=0), ValueError, "steps"),
    BadInput("teng-optaxfit-optimizer", lambda: OptaxFit(lambda g: g), TypeError, "GradientTransformation"),
    BadInput("teng-lm-projection-plain-model", lambda: LevenbergMarquardt()(_plain(), _pts(), jnp.zeros(16)), TypeError, "projection=False"),
    BadInput("teng-project-readout-plain", lambda: project_readout(_plain(), _pts(), jnp.zeros(16)), TypeError, "linear read-out"),
    BadInput("teng-fit-nan-target", lambda: GaussNewton(**_SVD)(_net(), _pts(), jnp.full(16, jnp.nan)), ValueError, "NaN/inf"),
    BadInput("teng-fit-integer-target", lambda: LevenbergMarquardt()(_net(), _pts(), jnp.zeros(16, jnp.int32)), TypeError, "floating-point"),
    BadInput("teng-initial-network-key", lambda: initial_network(Heat2D(), _pts(), key=None), TypeError, "`key` is required"),
    BadInput("teng-initial-network-problem", lambda: initial_network(lambda x: x, _pts(), key=_K), TypeError, "Heat2D()"),
    BadInput("teng-grid-points-int-dtype", lambda: grid_points(4, dtype=jnp.int32), TypeError, "floating dtype"),
    BadInput("teng-reference-nan-time", lambda: Heat2D().reference((float("nan"),)), ValueError, "non-negative and increasing"),
    BadInput("teng-reference-points-shape", lambda: Heat2D().reference((0.5,))(jnp.zeros((3, 3)), 0.5), ValueError, "shape (m, 2)"),
    BadInput("teng-network-nan", _step(_euler(), model=eqx.tree_at(lambda m: m.shift, _net(), jnp.full((2, 2), jnp.nan))), ValueError, "NaN/inf"),
    BadInput("teng-periodic-mlp-int-dtype", lambda: PeriodicMLP(2, 2, 4, 1, key=_K, dtype=jnp.int32), TypeError, "floating dtype"),
    BadInput("teng-points-empty", _step(_euler(), points=jnp.zeros((0, 2))), ValueError, "empty"),
    # bounded problems and boundary rows
    BadInput("teng-rows-on-periodic", _step(TENG(boundary=_ROWS)), ValueError, "is periodic"),
    BadInput("teng-rows-condition-mismatch", _box_step(TENG(boundary=BoundaryRows.of(BoxHeat(2, "neumann"), 4)), model=_box()), ValueError, "the problem's condition is dirichlet"),
    BadInput("teng-rows-weight", lambda: BoundaryRows.of(BoxHeat(2), 4, weight=0.0), ValueError, "`weight` must be a finite number > 0"),
    BadInput("teng-rows-periodic-problem", lambda: BoundaryRows.of(Heat2D(), 4), TypeError, "bounded problem"),
    BadInput("teng-rows-type", _box_step(TENG(boundary="dirichlet")), TypeError, "BoundaryRows"),
    BadInput("teng-rows-lm", lambda: LevenbergMarquardt()(_box(), box_grid(2, 4), jnp.zeros(16), rows=_ROWS), TypeError, "no boundary rows"),
    BadInput("teng-box-mlp-condition", lambda: BoxMLP(2, 4, 1, key=_K, condition="robin"), ValueError, "`condition` must be one of"),
    BadInput("teng-box-unconstrained-no-rows", _box_step(TENG(), model=_box()), ValueError, "nothing imposes"),
    BadInput("teng-box-wrong-condition", _box_step(TENG(), model=_box("neumann")), ValueError, "satisfies neumann"),
    BadInput("teng-box-points-outside", _box_step(TENG(), points=grid_points(4)), ValueError, "[0, 1]^2"),
    BadInput("teng-backend-no-key", _step(TENG(backend=taylor.SparseSTDE(1))), TypeError, "`key` is required"),
    BadInput("teng-backend-type", _step(TDVP(backend="jet")), TypeError, "jaxsci.taylor backend"),
    BadInput("teng-box-heat-condition", lambda: BoxHeat(2, "periodic"), ValueError, "`condition` must be one of"),
    BadInput("teng-box-heat-dirichlet-mode-zero", lambda: BoxHeat(2, "dirichlet", modes=((1.0, (0, 1)),)), ValueError, ">= 1 for dirichlet"),
    BadInput("teng-box-heat-mode-length", lambda: BoxHeat(3, modes=((1.0, (1, 1)),)), ValueError, "length dim=3"),
    BadInput("teng-box-heat-spectral-3d", lambda: BoxHeat(3).reference((0.1,), n=16), ValueError, "two-dimensional"),
    BadInput("teng-box-allen-cahn-eps", lambda: BoxAllenCahn(eps=-1.0), ValueError, "`eps`"),
    BadInput("teng-box-grid-n", lambda: box_grid(2, 1), ValueError, "`n` must be >= 2"),
    BadInput("teng-rsng-no-key", _step(TDVP(num_columns=3)), TypeError, "`key` is required"),
    BadInput("teng-rsng-columns-zero", lambda: TDVP(num_columns=0), ValueError, "num_columns"),
    BadInput("teng-rsng-too-many", _step(TDVP(num_columns=10_000), key=_K), ValueError, "exceeds"),
]
