import pathlib
import runpy


def test_nde_examples_run(capsys):
    for path in sorted((pathlib.Path(__file__).parents[2] / "examples").glob("nde_*.py")):
        runpy.run_path(str(path), run_name="__main__")
    assert "NFE" in capsys.readouterr().out
