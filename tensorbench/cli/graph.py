"""`tensorbench accuracy gcn`: train a GCN on a labelled graph and report its test accuracy.

The timed GCN workloads check each step against a float64 reference; this checks that the
same models, trained for real (with dropout, as Kipf & Welling), learn: Cora should reach
about 0.80-0.83 test accuracy on pygcn's split with every backend.
"""

from __future__ import annotations

import argparse
import json

from ..backends import BACKENDS, Skip
from ..errors import InputError


def register(sub: argparse._SubParsersAction) -> None:
    """Add this area's subcommands to the `tensorbench` parser."""
    p = sub.add_parser("accuracy", help="train a model on a real graph and report accuracy")
    p.add_argument("model", choices=["gcn"])
    p.add_argument("--backend", required=True)
    p.add_argument("--graph", required=True, help="LINQS graph (folder or .content file)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--epochs", type=int, default=200)
    p.add_argument("--hidden", type=int, default=16)
    p.add_argument("--dropout", type=float, default=0.5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_accuracy)


def cmd_accuracy(args: argparse.Namespace) -> int:
    from ..backends import parse_device
    from ..workloads import gcn

    if args.backend not in gcn.MODELS or args.backend not in BACKENDS:
        valid = ", ".join(b for b in BACKENDS if b in gcn.MODELS)
        raise InputError(f"unknown backend {args.backend!r} for gcn (valid: {valid})")
    try:
        parse_device(args.device)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    if args.epochs < 1 or not 0 <= args.dropout < 1 or args.hidden < 1:
        raise InputError("need --epochs >= 1, --hidden >= 1 and 0 <= --dropout < 1")
    be = BACKENDS[args.backend]
    try:
        reason = be.device_reason(args.device)
        if reason:
            raise Skip(reason)
        be.load()
        result = gcn.train(
            be,
            args.device,
            args.graph,
            args.epochs,
            dropout=args.dropout,
            hidden=args.hidden,
            seed=args.seed,
        )
    except Skip as exc:
        print(f"tensorbench: skip: gcn accuracy on {args.backend}:{args.device}: {exc}")
        return 1
    except ValueError as exc:  # a graph without labels, or too small for the split
        raise InputError(str(exc)) from None
    result = {"backend": args.backend, "device": args.device, **result}
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(
        f"gcn on {result['graph']} [{args.backend}:{args.device}]: "
        f"test accuracy {result['test_accuracy']:.3f} (val {result['val_accuracy']:.3f}, "
        f"train {result['train_accuracy']:.3f}; {args.epochs} epochs in {result['seconds']:.2f} s)"
    )
    return 0
