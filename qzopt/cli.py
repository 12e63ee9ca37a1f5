"""Command line: a thin layer over :mod:`qzopt.api`.

Exit codes: 0 = a plan was found (optimal or feasible), 2 = bad input (message names file,
field and line), 3 = the scenario is infeasible (explanation printed), 4 = no solver produced
an answer.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

from rich.console import Console
from rich.table import Table

EXIT_OK, EXIT_INPUT, EXIT_INFEASIBLE, EXIT_SOLVER = 0, 2, 3, 4


def _parser() -> argparse.ArgumentParser:
    from qzopt import __version__

    p = argparse.ArgumentParser(prog="qzopt", description="Site shared plants across jurisdictions (MILP).")
    p.add_argument("--version", action="version", version=f"qzopt {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    s = sub.add_parser("solve", help="solve a scenario and write result files")
    s.add_argument("scenario", help="scenario YAML file")
    s.add_argument("-o", "--outdir", help="output directory (default: out/<scenario name>)")
    s.add_argument("--solver", help="highs | cbc | ortools | ortools-sat | pulp:<NAME> (default: the scenario's)")
    s.add_argument("--time-limit", type=float, metavar="S", help="seconds per solver (default: the scenario's)")
    s.add_argument("--gap", type=float, metavar="G", help="relative optimality gap, e.g. 0.01 (default 0: prove)")
    s.add_argument("--fallback", help="comma-separated solvers to try next (default: the others)")
    s.add_argument("--threads", type=int, help="solver threads")
    s.add_argument("-v", "--verbose", action="store_true", help="stream the solver log")
    s.add_argument("--no-isolate", action="store_true", help="run the solver in this process (faster start)")

    v = sub.add_parser("validate", help="check a scenario without solving")
    v.add_argument("scenario")

    sub.add_parser("solvers", help="list solver back ends and whether they can be used here")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    from qzopt.errors import QzoptError

    args = _parser().parse_args(argv)
    console = Console(highlight=False)
    err = Console(stderr=True, highlight=False)
    try:
        if args.command == "solve":
            return _solve(args, console)
        if args.command == "validate":
            return _validate(args, console)
        if args.command == "solvers":
            return _solvers(console)
        _parser().print_help()
        return EXIT_INPUT
    except QzoptError as exc:
        err.print(f"[bold red]error:[/] {exc}", markup=True, soft_wrap=True)
        return exc.exit_code
    except KeyboardInterrupt:
        err.print("interrupted")
        return 130


def _validate(args: argparse.Namespace, console: Console) -> int:
    from qzopt.geo.pairs import allowed_mask
    from qzopt.scenario.checks import presolve_findings
    from qzopt.scenario.load import load_scenario

    sc = load_scenario(args.scenario)
    mask = allowed_mask(sc)
    console.print(f"[green]ok[/]: {args.scenario}: scenario {sc.name!r} ({sc.sector}) with {len(sc.jurisdictions)} "
                  f"jurisdictions, {len(sc.demands)} demand points ({sc.demands['amount'].sum():,.6g} {sc.units.demand}), "
                  f"{len(sc.sites)} sites, {len(sc.sizes)} size options, {int(mask.sum()):,} allowed pairs.")
    findings = presolve_findings(sc)
    if findings:
        console.print("[bold red]but it cannot be satisfied:[/]")
        for f in findings:
            console.print(f"  - {f}")
        return EXIT_INFEASIBLE
    return EXIT_OK


def _solvers(console: Console) -> int:
    from qzopt.solvers.registry import DEFAULT_ORDER, available_backends, get_backend

    t = Table(title="solver back ends")
    for col in ("name", "usable", "what"):
        t.add_column(col)
    for name, reason in available_backends().items():
        try:
            what = get_backend(name).description
        except Exception:  # the back end's module cannot even be imported: the reason says why
            what = ""
        t.add_row(name, "yes" if reason is None else f"no: {reason}", what)
    console.print(t)
    console.print(f"default order: {' -> '.join(DEFAULT_ORDER)}; any PuLP solver as pulp:<NAME>")
    return EXIT_OK


def _solve(args: argparse.Namespace, console: Console) -> int:
    from qzopt.api import solve
    from qzopt.scenario.load import load_scenario

    sc = load_scenario(args.scenario)
    outdir = Path(args.outdir) if args.outdir else Path("out") / Path(args.scenario).stem
    fallback = [s.strip() for s in args.fallback.split(",") if s.strip()] if args.fallback else None
    with console.status(f"solving {sc.name}…", spinner="dots") as status:
        def event(msg: str) -> None:
            status.update(f"{sc.name}: {msg}")
            console.log(msg)

        res = solve(sc, solver=args.solver, time_limit=args.time_limit, gap=args.gap, fallback=fallback,
                    threads=args.threads, verbose=args.verbose, isolate=not args.no_isolate, on_event=event)
    res.write(outdir)
    print_summary(res, console)
    console.print(f"wrote {outdir}/result.json, facilities.csv, assignments.csv, demands.csv, report.md")
    if res.status in ("optimal", "feasible"):
        return EXIT_OK
    return EXIT_INFEASIBLE if res.status == "infeasible" else EXIT_SOLVER


def print_summary(res, console: Console) -> None:
    from qzopt.report.markdown import money, num, pct, solve_facts

    colour = {"optimal": "green", "feasible": "yellow"}.get(res.status, "red")
    t = Table(show_header=False, title=f"{res.scenario}", title_justify="left")
    t.add_column(style="bold")
    t.add_column()
    for k, v in solve_facts(res):
        t.add_row(k, f"[{colour}]{v}[/]" if k == "Status" else v)
    console.print(t)
    if res.message:
        console.print(res.message)
    for line in res.explanation:
        console.print(f"  - {line}")
    if res.ok:
        f = res.open_sites
        du, mu = res.units.get("demand", ""), res.units.get("money", "")
        st = Table(title=f"{len(f)} sites open (* = existing)", title_justify="left")
        for col, right in (("site", False), ("size", False), (f"load ({du})", True), ("utilisation", True),
                           (f"cost ({mu}/yr)", True)):
            st.add_column(col, justify="right" if right else "left")
        for row in f.itertuples(index=False):
            st.add_row(f"{row.site}{'*' if row.existing else ''}", str(row.size), num(row.load),
                       pct(row.utilisation), money(row.total_cost_per_yr))
        console.print(st)

if __name__ == "__main__":
    sys.exit(main())
