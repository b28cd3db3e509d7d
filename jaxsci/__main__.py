"""Command line: ``python -m jaxsci demo [--out DIR] [--only FAMILY ...] [--quick]`` and
``python -m jaxsci study run|status|report FILE``."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m jaxsci", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="solve a small problem with each method family")
    demo.add_argument("--out", default="demo_output", help="folder for the summary and plots")
    demo.add_argument(
        "--only", nargs="*", default=None, help="run only these families (module names)"
    )
    demo.add_argument(
        "--quick", action="store_true", help="tiny settings: a smoke test of every family (small sizes, few steps)"
    )
    from jaxsci.studies._cli import add_parser as add_study_parser

    add_study_parser(sub)
    args = parser.parse_args(argv)
    if args.command == "study":
        from jaxsci.studies._cli import main as study_main

        return study_main(args)
    if args.command == "demo":
        from jaxsci._demo import run_demo

        return run_demo(args.out, only=args.only, quick=args.quick)
    return 2  # pragma: no cover


if __name__ == "__main__":
    sys.exit(main())
