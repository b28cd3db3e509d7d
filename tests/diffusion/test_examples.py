import importlib.util
import pathlib
import runpy

EXAMPLES = pathlib.Path(__file__).parents[2] / "examples"


def _load(name):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_sampling_example_runs():
    runpy.run_path(str(EXAMPLES / "diffusion_sampling.py"), run_name="__main__")


def test_training_example_learns_the_data():
    results = _load("diffusion_train_2d").main(steps=1500, num_samples=500, out=None)
    # every sampler's samples are much closer to the data than the noise they start from
    for name in ("DDIM", "DPM-Solver++(2M)", "UniPC-bh2", "DEIS-tAB3"):
        assert results[name] < results["noise (x_T)"] / 3, results
