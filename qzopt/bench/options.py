"""The options of ``python -m qzopt.bench`` and ``qzopt bench``.

A module of their own, importing nothing heavy: the ``qzopt`` command builds its parser from
them on every call, ``qzopt --version`` included, and the harness itself (pandas, the runner)
is imported only when ``qzopt bench`` runs (:func:`run`).
"""

from __future__ import annotations

import argparse
import shlex

from qzopt.bench.suites import SUITES
from qzopt.cli import positive

#: The harness's one-line description (``--help``).
HARNESS = "Run benchmark suites and print the figures (every run in its own process; medians; ratios to the peers)."


def parser(p: argparse.ArgumentParser | None = None) -> argparse.ArgumentParser:
    """The harness's options (also used by the ``qzopt bench`` subcommand)."""
    p = p or argparse.ArgumentParser(prog="python -m qzopt.bench", description=HARNESS)
    p.add_argument("--suite", default="smoke", help=f"{' | '.join(SUITES)} | all, or several comma-separated "
                                                    "(default: smoke)")
    p.add_argument("--instances", help="comma-separated instance names to keep (e.g. pmed1,capa-8000)")
    p.add_argument("--repeats", type=positive(int), default=1,
                   help="runs per solver and instance; medians are reported")
    p.add_argument("--peer-repeats", type=positive(int), metavar="N",
                   help="runs per peer and instance (default: --repeats); peers are the slow part")
    p.add_argument("--time-limit", type=positive(float), default=300.0, metavar="S",
                   help="seconds per run (peers are killed past it; default 300)")
    p.add_argument("--peers", action=argparse.BooleanOptionalAction, default=True,
                   help="also run the peers (spopt+CBC on pmed, plain PuLP+CBC on cap)")
    p.add_argument("--shared", help="the shared folder holding benchmarks/ (default: ../shared)")
    p.add_argument("-o", "--outdir", help="write runs.csv, summary.csv, summary.json and summary.md here")
    p.add_argument("--summarise", metavar="DIR", nargs="+",
                   help="only re-print the summary of DIR/runs.csv (several DIRs: of all their runs together, an "
                        "instance and solver in several DIRs taken from the last one given); "
                        "one DIR: its summary.csv and summary.md are rewritten; several: written only with --outdir "
                        "(never into one of the DIRs, whose runs.csv is their own)")
    return p


def command(args: argparse.Namespace) -> str:
    """The shell command that runs the harness again with ``args`` (every option that has a value,
    defaults included, so that a later change of a default does not change what it runs), built
    from the parsed options: not from ``sys.argv``, which holds the caller's own arguments when
    the harness is run from Python (``qzopt.bench.__main__.main([...])``, a notebook, a test)."""
    parts = ["qzopt", "bench"]
    for action in parser()._actions:
        value = getattr(args, action.dest, None)
        if not action.option_strings or action.dest == "help" or value is None:
            continue
        if isinstance(action, argparse.BooleanOptionalAction):  # its strings: "--peers", "--no-peers"
            parts.append(action.option_strings[0 if value else 1])
            continue
        flag = action.option_strings[-1]  # the long form ("-o", "--outdir")
        if isinstance(value, list):
            parts += [flag, *map(str, value)]
        else:
            parts += [flag, f"{value:g}" if isinstance(value, float) else str(value)]
    return shlex.join(parts)


def run(args: argparse.Namespace) -> int:
    """Run the harness (:func:`qzopt.bench.__main__.run`), imported only now."""
    from qzopt.bench.__main__ import run as run_harness

    return run_harness(args)
