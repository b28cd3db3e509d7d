import importlib.util
import math
import pathlib
import runpy

import pytest

EXAMPLES = pathlib.Path(__file__).parents[2] / "examples"


def test_nfe_example_runs(capsys):
    runpy.run_path(str(EXAMPLES / "nde_nfe.py"), run_name="__main__")
    assert "NFE" in capsys.readouterr().out


def test_regularize_diffrax_example_runs():
    spec = importlib.util.spec_from_file_location("ex", EXAMPLES / "nde_regularize_diffrax.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    results = module.main(steps=5)
    for mse, num_steps in results.values():
        assert math.isfinite(mse) and num_steps > 0


def _run_briefly(name, methods):
    pytest.importorskip("sklearn")
    import dataclasses

    from jaxsci.nde import experiments

    settings = dataclasses.replace(experiments.DEFAULTS[name], steps=2, batch=32)
    for method in methods:
        row = experiments.run(name, method, settings, repeats=1)
        assert math.isfinite(row["metric"]) and row["test_nfe"] > 0


def test_experiments_run_briefly():
    _run_briefly("digits", ["error"])
    _run_briefly("spiral", ["local-biased"])


@pytest.mark.slow
def test_experiments_run_every_method_briefly():
    from jaxsci.nde import experiments

    for name in experiments.EXPERIMENTS:
        _run_briefly(name, experiments.METHODS[name])


def test_experiments_reject_unknown_names():
    from jaxsci.nde import experiments

    with pytest.raises(ValueError, match="pick one of"):
        experiments.run("mnist", "error")
    with pytest.raises(ValueError, match="does not apply"):
        experiments.run("spiral", "steer")
