"""The accelerator check: the test suite at JAX's default matmul precision, then benchmarks.

    python benchmarks/accelerator/check.py [--out DIR] [--profile quick|paper|none]
           [--workers N] [--pytest-args ...] [--bench-timeout SECONDS]

Run it on a GPU or TPU host after installing the matching jax (for example
``pip install -U "jax[cuda12]"`` or ``pip install -U "jax[tpu]"`` into ``.venv``; ``make
gpu-check`` runs it). It works on whatever backend JAX sees, the CPU included.

1. The default test suite (``-m "not slow and not heavy"``, the install tests left out:
   they need a package index) at the matmul precision users get: on GPUs a float32 matmul
   may run in TF32, on TPUs in bfloat16 passes. Tests whose tolerances need full float32
   products carry the ``full_precision`` mark and set it themselves. GPU memory is not
   preallocated, so the pytest workers share the device.
2. The benchmarks of a profile, each a ``benchmarks/*.py`` command with its own timeout:
   ``quick`` (the ``--quick`` sizes, a few minutes in all) or ``paper`` (the sizes the
   papers report: STDE at d = 10^3..10^6, the diffusion samplers, TENG on a 256^2 grid, the
   study ensemble throughput; an hour or more).

Writes ``DIR/report.md`` (device, versions, test counts and failures, every benchmark's
table) and ``DIR/report.json``, plus each benchmark's JSON and output; exits 1 if a test or
a benchmark failed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BENCH = REPO / "benchmarks"

# name -> (script, arguments); each writes its JSON to DIR/<name>.json
PROFILES: dict[str, dict[str, list[str]]] = {
    "none": {},
    "quick": {
        "taylor_operators": ["taylor_operators.py", "--quick"],
        "stde_highdim": ["stde_highdim.py", "--quick"],
        "diffusion_samplers": ["diffusion_samplers.py", "--quick"],
        "teng": ["teng.py", "--quick", "--problems", "heat"],
        "studies": ["studies.py", "--quick"],
    },
    "paper": {
        "stde_highdim": ["stde_highdim.py", "--dims", "1000", "10000", "100000", "1000000",
                         "--steps", "1000", "--budget", "300", "--mem-limit-gb", "100"],
        "diffusion_samplers": ["diffusion_samplers.py"],
        # about the TENG paper's size: 7,329 parameters, 256^2 points
        "teng": ["teng.py", "--problems", "heat", "allen_cahn", "--grid", "256",
                 "--net", "8", "40", "5"],
        "studies": ["studies.py"],
    },
}


def device_info() -> dict:
    """What JAX sees, in a child process (so this script never holds the device itself)."""
    probe = (
        "import json, jax, jaxlib\n"
        "d = jax.devices()\n"
        "stats = getattr(d[0], 'memory_stats', lambda: None)() or {}\n"
        "print(json.dumps({'backend': jax.default_backend(), 'count': len(d),\n"
        "  'kind': d[0].device_kind, 'platform': d[0].platform, 'jax': jax.__version__,\n"
        "  'jaxlib': jaxlib.__version__, 'memory_gb': stats.get('bytes_limit', 0) / 2**30,\n"
        "  'matmul_precision': str(jax.config.jax_default_matmul_precision)}))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         env=_env(), timeout=300)
    if out.returncode != 0:
        raise SystemExit(f"JAX could not start on this machine:\n{out.stderr[-3000:]}")
    info = json.loads(out.stdout.strip().splitlines()[-1])
    info.update(python=platform.python_version(), machine=platform.machine(),
                host=platform.node(), cpus=os.cpu_count())
    return info


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")  # pytest workers share a GPU
    env.pop("JAXSCI_TEST_EMULATE_TF32", None)
    return env


def run_tests(out: Path, workers: int, pytest_args: list[str]) -> dict:
    xml = out / "tests.xml"
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={xml}",
           *(["-n", str(workers)] if workers > 1 else [])]
    cmd += pytest_args or ["-m", "not slow and not heavy", "--ignore=tests/install"]
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=REPO, env=_env(), capture_output=True, text=True)
    (out / "tests.log").write_text(done.stdout + done.stderr)
    result = dict(command=" ".join(cmd[3:]), seconds=time.perf_counter() - start,
                  returncode=done.returncode, failed=[])
    if not xml.exists():
        result["error"] = done.stderr[-3000:] or done.stdout[-3000:]
        return result
    root = ET.parse(xml).getroot()
    suite = root if root.tag == "testsuite" else root.find("testsuite")
    assert suite is not None
    for field in ("tests", "failures", "errors", "skipped"):
        result[field] = int(suite.get(field, 0))
    for case in suite.iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            result["failed"].append(f"{case.get('classname')}::{case.get('name')}")
    return result


def run_benchmarks(out: Path, profile: str, timeout: float) -> list[dict]:
    rows = []
    for name, (script, *args) in PROFILES[profile].items():
        cmd = [sys.executable, str(BENCH / script), *args, "--json", str(out / f"{name}.json")]
        print(f"== {name}: {' '.join(cmd[1:])}", flush=True)
        start = time.perf_counter()
        try:
            done = subprocess.run(cmd, cwd=REPO, env=_env(), capture_output=True, text=True,
                                  timeout=timeout)
            code, text = done.returncode, done.stdout + ("\n" + done.stderr[-3000:] if done.returncode else "")
        except subprocess.TimeoutExpired as stopped:
            code, text = -1, f"did not finish within {timeout:.0f} s\n{stopped.stdout or ''}"
        (out / f"{name}.log").write_text(text)
        rows.append(dict(name=name, command=" ".join(cmd[1:]), returncode=code,
                         seconds=time.perf_counter() - start, output=text))
    return rows


def report(device: dict, tests: dict | None, benches: list[dict]) -> str:
    lines = ["# jaxsci accelerator check", "",
             f"Device: {device['count']} x {device['kind']} ({device['backend']}), "
             f"{device['memory_gb']:.0f} GiB each; host {device['host']}, {device['cpus']} CPUs, "
             f"{device['machine']}.",
             f"Python {device['python']}, jax {device['jax']}, jaxlib {device['jaxlib']}; "
             f"default matmul precision: {device['matmul_precision']}.", ""]
    if tests is not None:
        lines += ["## Tests at the default matmul precision", "", f"`pytest {tests['command']}`", ""]
        if "tests" in tests:
            passed = tests["tests"] - tests["failures"] - tests["errors"] - tests["skipped"]
            lines.append(f"{passed} passed, {tests['failures']} failed, {tests['errors']} errors, "
                         f"{tests['skipped']} skipped in {tests['seconds']:.0f} s.")
        else:
            lines.append(f"pytest did not run: {tests.get('error', '')}")
        lines += [f"- FAILED {name}" for name in tests["failed"]] + [""]
    for bench in benches:
        status = "ok" if bench["returncode"] == 0 else f"FAILED (exit {bench['returncode']})"
        lines += [f"## {bench['name']}: {status}, {bench['seconds']:.0f} s", "",
                  f"`python {bench['command']}`", "", bench["output"].strip(), ""]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=REPO / "accelerator_report")
    p.add_argument("--profile", choices=sorted(PROFILES), default="quick")
    p.add_argument("--workers", type=int, default=2, help="pytest workers (1: no xdist)")
    p.add_argument("--no-tests", action="store_true", help="run the benchmarks only")
    p.add_argument("--bench-timeout", type=float, default=1800.0, help="seconds per benchmark")
    p.add_argument("--pytest-args", nargs=argparse.REMAINDER, default=[],
                   help="arguments for pytest instead of the default suite (put this option last)")
    args = p.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    device = device_info()
    print(f"JAX sees {device['count']} x {device['kind']} ({device['backend']})", flush=True)
    tests = None if args.no_tests else run_tests(args.out, args.workers, args.pytest_args)
    benches = run_benchmarks(args.out, args.profile, args.bench_timeout)
    text = report(device, tests, benches)
    (args.out / "report.md").write_text(text)
    (args.out / "report.json").write_text(json.dumps(
        dict(device=device, tests=tests, benchmarks=[{k: v for k, v in b.items() if k != "output"}
                                                     for b in benches]), indent=2))
    print(text)
    print(f"wrote {args.out / 'report.md'}")
    failed = (tests is not None and (tests["returncode"] != 0 or tests["failed"])) or any(
        b["returncode"] != 0 for b in benches)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
