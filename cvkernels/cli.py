"""The `cvkernels` command: `cvkernels bench` prints the side-by-side timing table."""

from __future__ import annotations

import argparse
import sys


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="cvkernels", description="cvkernels command line")
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("bench", help="time every op beside each installed peer (median of repeats)")
    b.add_argument("--threads", type=int, default=None, help="threads for cvkernels and torch (default: torch's)")
    b.add_argument("--quick", action="store_true", help="smaller inputs, for a fast look")
    b.add_argument("--only", action="append", help="run only cases whose name contains this (repeatable)")
    args = parser.parse_args(argv)
    if args.command == "bench":
        from .bench import run

        if args.threads is not None and args.threads < 1:
            parser.error("--threads must be >= 1")
        rows = run(threads=args.threads, quick=args.quick, only=args.only)
        return 0 if rows else 1
    return 2


if __name__ == "__main__":
    sys.exit(main())
