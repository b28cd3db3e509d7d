"""``python -m jaxsci study run|status|report FILE``."""

from __future__ import annotations

import argparse


def add_parser(sub) -> None:
    study = sub.add_parser("study", help="run, inspect or summarise a batch PINN study (TOML file)")
    study.add_argument("action", choices=["run", "status", "report"])
    study.add_argument("file", help="the study file (TOML)")
    study.add_argument("--coordinator", help="multi-process run: the coordinator's host:port (process 0)")
    study.add_argument("--num-processes", type=int, help="multi-process run: the number of processes")
    study.add_argument("--process-id", type=int, help="multi-process run: this process's index")


def main(args: argparse.Namespace) -> int:
    from ._config import StudyFileError
    from ._report import report, status
    from ._runner import run

    code = 0
    try:
        if args.action == "run":
            flags = {"coordinator": getattr(args, "coordinator", None),
                     "num_processes": getattr(args, "num_processes", None),
                     "process_id": getattr(args, "process_id", None)}
            code = run(args.file, flags=flags)
            return code
        print(status(args.file) if args.action == "status" else report(args.file))
        return code
    except (StudyFileError, FileNotFoundError, PermissionError) as err:
        print(f"error: {err}")
        code = 2
        return code
    except BaseException:
        code = 1
        raise
    finally:
        if args.action == "run":
            _exit_now_if_a_process_failed(code)


def _exit_now_if_a_process_failed(code: int) -> None:
    """After a failed multi-process run, exit at once: JAX's shutdown waits (up to 5 minutes)
    at a barrier for every process, and a process that was killed never arrives."""
    import os
    import sys

    import jax

    if code and jax.distributed.is_initialized() and jax.process_count() > 1:
        import traceback

        if sys.exc_info()[0] is not None:  # an error on its way up: show it before leaving
            traceback.print_exc()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
