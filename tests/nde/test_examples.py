import importlib.util
import math
import pathlib

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).parents[2]
EXAMPLES = ROOT / "examples"


def _load(name, folder=EXAMPLES):
    spec = importlib.util.spec_from_file_location(name, folder / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_nfe_example_matches_the_exact_solution():
    result = _load("nde_nfe").main()
    # exp(-t) on [0, 2] with rtol = atol = 1e-3: measured max error 9.7e-4 with 27 evaluations
    assert result["max error"] < 2e-3
    assert 6 <= result["nfe"] <= 100


@pytest.mark.heavy
def test_regularize_diffrax_example_fits_the_target_map():
    results = _load("nde_regularize_diffrax").main(steps=60)
    # fit MSE against the target map x + sin(2x)/2: measured 0.135 untrained, 8.2e-3 after
    # 60 Adam steps with and without R_E (the two differ by under 1%)
    untrained, _ = results["untrained"]
    for name in ("plain", "R_E"):
        mse, num_steps = results[name]
        assert mse < untrained / 5 and mse < 0.03, results
        assert 0 < num_steps < 100


def _experiments():
    pytest.importorskip("sklearn")
    return _load("nde_experiments", ROOT / "benchmarks")


def _run_briefly(name, methods):
    pytest.importorskip("sklearn")
    import dataclasses

    experiments = _experiments()
    settings = dataclasses.replace(experiments.DEFAULTS[name], steps=2, batch=32)
    for method in methods:
        row = experiments.run(name, method, settings, repeats=1)
        assert math.isfinite(row["metric"]) and row["test_nfe"] > 0


@pytest.mark.heavy
def test_experiments_run_briefly():
    # digits with "error" runs in tests/test_demo.py (the quick demo)
    _run_briefly("spiral", ["local-biased"])
    _run_briefly("latent", ["error", "budget"])


def test_latent_series_are_irregular_and_the_test_set_is_fixed():
    experiments = _experiments()
    x_tr, m_tr, x_te, m_te = experiments.latent_data(0, n_train=400, n_test=50)
    assert abs(float(m_tr.mean()) - 0.3) < 0.02  # 30% of the times observed
    assert len({tuple(row) for row in m_tr}) == len(m_tr)  # each series its own times
    assert np.all(x_tr[m_tr == 0] == 0)  # unobserved values carry nothing
    _, _, x_te1, m_te1 = experiments.latent_data(1, n_train=400, n_test=50)
    np.testing.assert_array_equal(x_te, x_te1)
    np.testing.assert_array_equal(m_te, m_te1)


@pytest.mark.slow
def test_experiments_run_every_method_briefly():
    experiments = _experiments()

    for name in experiments.EXPERIMENTS:
        _run_briefly(name, experiments.METHODS[name])


def test_experiments_reject_unknown_names():
    experiments = _experiments()

    with pytest.raises(ValueError, match="pick one of"):
        experiments.run("mnist", "error")
    with pytest.raises(ValueError, match="does not apply"):
        experiments.run("spiral", "steer")
