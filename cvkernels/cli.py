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
    e = sub.add_parser("eval", help="COCO evaluation of a detections JSON against a ground-truth JSON")
    e.add_argument("gt", help="ground-truth annotations (COCO JSON)")
    e.add_argument("dt", help="detections (COCO results JSON: a list of objects)")
    e.add_argument("--iou-type", default="bbox", choices=["bbox", "segm", "keypoints"],
                   help="annotation type: bbox, segm or keypoints (OKS)")
    e.add_argument("--per-class", action="store_true", help="also print AP per class")
    e.add_argument("--plot", metavar="PNG", help="save precision-recall curves (needs matplotlib)")
    args = parser.parse_args(argv)
    if args.command == "eval":
        return _eval(args)
    if args.command == "bench":
        from .bench import run

        if args.threads is not None and args.threads < 1:
            parser.error("--threads must be >= 1")
        rows = run(threads=args.threads, quick=args.quick, only=args.only)
        return 0 if rows else 1
    return 2


def _eval(args) -> int:
    import time

    from .coco import COCO, COCOeval

    # Progress on long runs: stage names and times on stderr, only when it is a terminal.
    tty = sys.stderr.isatty()
    start = time.perf_counter()

    def stage(name):
        if tty:
            print(f"[{time.perf_counter() - start:7.2f}s] {name}", file=sys.stderr, flush=True)

    # A malformed or unreadable file: one line naming the file (and the annotation and field
    # the message gives), exit code 2.
    path = args.gt
    try:
        stage(f"loading {args.gt}")
        gt = COCO(args.gt)
        path = args.dt
        stage(f"loading {args.dt}")
        dt = gt.loadRes(args.dt)
        ev = COCOeval(gt, dt, args.iou_type)
        stage("evaluating")
        path = None
        ev.evaluate()
        stage("accumulating")
        ev.accumulate()
    except (ValueError, OSError) as err:
        msg = " ".join(str(err).split("\n"))
        if path is None:  # evaluate(): the message says "annotation i" (ground truth) or "result i"
            path = args.dt if msg.startswith("result") else args.gt
        if not msg.startswith(path):
            msg = f"{path}: {msg}"
        print(f"cvkernels eval: {msg}", file=sys.stderr)
        return 2
    stage("done")
    ev.summarize()
    if args.per_class:
        print()
        print(ev.per_class_table())
    if args.plot:
        try:
            ev.plot_pr(args.plot)
        except ImportError as err:
            print(f"cvkernels eval: {err}", file=sys.stderr)
            return 1
        print(f"precision-recall curves written to {args.plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
