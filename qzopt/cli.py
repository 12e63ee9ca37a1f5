"""Command line: a thin layer over :mod:`qzopt.api`.

Exit codes: 0 = a plan was found (optimal or feasible), 2 = bad input (message names file,
field and line), 3 = the scenario is infeasible (explanation printed), 4 = no solver produced
an answer.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Sequence

from rich.console import Console
from rich.table import Table
from rich.text import Text


EXIT_OK, EXIT_INPUT, EXIT_INFEASIBLE, EXIT_SOLVER = 0, 2, 3, 4


def _number(text: str, kind: type = float):
    """``text`` read as ``kind``, or the argparse error that names it."""
    try:
        return kind(text)
    except ValueError:
        try:
            float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None


def positive(kind: type):
    """An argparse type: a finite number of ``kind`` above zero, or a whole number 1 or more when
    ``kind`` is int (argparse names the option when it fails)."""

    def parse(text: str):
        value = _number(text, kind)
        if not (value > 0 and math.isfinite(value)):
            raise argparse.ArgumentTypeError(f"{text!r}: must be a whole number, 1 or more" if kind is int
                                             else f"{text!r}: must be a finite number above 0")
        return value

    return parse


def nonnegative_int(text: str) -> int:
    """An argparse type: a whole number 0 or above (argparse names the option when it fails)."""
    value = _number(text, int)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r}: must be a whole number, 0 or more")
    return value


def fraction(text: str) -> float:
    """An argparse type: a relative gap, from 0 to below 1."""
    value = _number(text)
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"{text!r}: a relative gap from 0 to below 1 (0.01 = 1 %)")
    return value


def solver_name(text: str) -> str:
    """An argparse type: a solver's name, refused at once when it names none (a typo is not a
    solver that is missing here; argparse names the option)."""
    from qzopt.solvers.registry import unknown_names

    problem = unknown_names(text, first=True)
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return text


def fallback_list(text: str) -> list[str]:
    """An argparse type: comma-separated solver names to try next ("" = none), each a known one."""
    from qzopt.solvers.registry import split_names, unknown_names

    names = split_names(text)
    problem = unknown_names(names)
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return names


def fee_caps(text: str) -> list[float]:
    """An argparse type: comma-separated fee caps, each a finite number 0 or above (0: plants
    break even without fees, as ``fees.max_fee: 0`` in a scenario)."""
    caps = []
    for part in text.split(","):
        value = _number(part.strip(), float)
        if not (value >= 0 and math.isfinite(value)):
            raise argparse.ArgumentTypeError(f"{part.strip()!r}: must be a finite number, 0 or above")
        caps.append(value)
    return caps


def output_dir(path: str | Path, option: str = "-o") -> Path:
    """``path`` as a folder to write into, created if missing; checked before any long solve so a
    bad ``-o`` (a file, an empty path) is refused at once (QzoptError naming the option and the
    path), not after it."""
    from qzopt.arguments import writable_folder

    return writable_folder(path, option)


def _not_empty(value: str | None, option: str) -> None:
    """Refuse ``option ""`` (QzoptError naming it): an empty path is not "not given", and read as
    a path it would be the current folder."""
    from qzopt.errors import QzoptError

    if value == "":
        raise QzoptError(f"{option} '': names no file or folder; name one, or leave {option} out")


def outdir_of(args: argparse.Namespace, default: Path) -> Path:
    """The folder of ``-o`` (:func:`output_dir`), or ``default`` when -o is not given; an empty
    ``-o ""`` is refused, not read as "not given"."""
    return output_dir(default if args.outdir is None else args.outdir)


def _parser() -> argparse.ArgumentParser:
    from qzopt import __version__

    p = argparse.ArgumentParser(prog="qzopt", description="Site shared plants across jurisdictions (MILP).")
    p.add_argument("--version", action="version", version=f"qzopt {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    s = sub.add_parser("solve", help="solve a scenario and write result files")
    s.add_argument("scenario", help="scenario YAML file")
    s.add_argument("-o", "--outdir", help="output directory (default: out/<scenario file name without .yaml>)")
    s.add_argument("--solver", type=solver_name, help="auto | highs | cbc | ortools | ortools-sat | pulp:<NAME> (default: the scenario's)")
    s.add_argument("--time-limit", type=positive(float), metavar="S",
                   help="seconds per solver (default: the scenario's)")
    s.add_argument("--gap", type=fraction, metavar="G",
                   help="relative optimality gap at which the solver may stop, from 0 (prove optimal) to below 1; "
                        "0.01 = 1 %% (default: the scenario's solver.gap)")
    s.add_argument("--fallback", type=fallback_list, help="comma-separated solvers to try next (default: the others; \"\" for none)")
    s.add_argument("--threads", type=positive(int), help="solver threads")
    s.add_argument("-v", "--verbose", action="store_true", help="stream the solver log")
    s.add_argument("--no-isolate", action="store_true", help="run the solver in this process (faster start)")
    s.add_argument("--no-html", action="store_true", help="skip report.html (faster; report.md is still written)")
    _add_set(s)

    v = sub.add_parser("validate", help="check a scenario without solving")
    v.add_argument("scenario")
    _add_set(v)

    sub.add_parser("solvers", help="list solver back ends and whether they can be used here")

    fr = sub.add_parser("frontier", help="trade-off between an equalised fee and total cost")
    fr.add_argument("scenario")
    fr.add_argument("--caps", type=fee_caps,
                    help="comma-separated fee caps (money per demand unit); default: from the "
                         "smallest achievable fee to the fee of the cheapest plan")
    fr.add_argument("--points", type=positive(int), default=5, help="number of caps when --caps is not given (default 5)")
    fr.add_argument("--solver", type=solver_name, help="as for solve (default: the scenario's)")
    fr.add_argument("--time-limit", type=positive(float), metavar="S",
                    help="seconds per solver for each of the frontier's solves (default: the scenario's)")
    fr.add_argument("-o", "--outdir", help="output directory (default: out/<scenario file name>-frontier)")
    _add_set(fr)

    rp = sub.add_parser("report", help="(re)write report.html and report.md of a result directory")
    rp.add_argument("result", help="result directory written by `qzopt solve` (holds result.json)")
    rp.add_argument("--frontier", metavar="DIR", help="add the fee frontier written by `qzopt frontier -o DIR`")
    rp.add_argument("--sharing", metavar="DIR", help="add the cost sharing written by `qzopt share -o DIR`")
    rp.add_argument("-o", "--output", help="HTML or Markdown file (the other is written beside it: x.html/x.md) "
                    "or a folder to write into (default: RESULT/report.html and report.md)")

    cp = sub.add_parser("compare", help="set two or more plans of one region side by side")
    cp.add_argument("runs", nargs="+", metavar="RUN", help="result directories; the first is the baseline")
    cp.add_argument("-o", "--output", default="compare.html",
                    help="HTML or Markdown file (the other is written beside it: x.html/x.md) or a folder to "
                    "write into (default: compare.html and compare.md)")

    sh = sub.add_parser("share", help="split the cost of the shared plan among jurisdictions or groups")
    sh.add_argument("scenario")
    sh.add_argument("--players", default="group", help="group (e.g. prefecture, default) or jurisdiction")
    sh.add_argument("--method", default="all",
                    help="shapley | nucleolus | scrb | proportional | all, or several joined by commas (beyond 15 "
                         "players 'all' is what can be computed: proportional, scrb, and shapley with --samples)")
    sh.add_argument("--territory", default="own", choices=["own", "all"],
                    help="sites a coalition may use alone: its own territory (default) or all "
                         "(another jurisdiction's existing plant is then optional, not forced open)")
    sh.add_argument("--samples", type=positive(int), metavar="N",
                    help="estimate Shapley over N random joining orders (default: exact up to 10 players, 2,000 "
                         "orders up to 15; with more players Shapley needs --samples, each order solving up to "
                         "one coalition per player)")
    sh.add_argument("--seed", type=nonnegative_int, default=0, help="seed of the sampled joining orders (default 0)")
    sh.add_argument("--workers", type=positive(int), help="parallel worker processes (default: one per core)")
    sh.add_argument("--cache", help="directory for cached coalition costs, kept in its coalitions/ folder "
                                      "(default ~/.cache/qzopt, or $QZOPT_CACHE)")
    sh.add_argument("--solver", type=solver_name, help="as for solve (default: the scenario's)")
    sh.add_argument("--time-limit", type=positive(float), metavar="S",
                    help="seconds per solver for each coalition (default: the scenario's)")
    sh.add_argument("-o", "--outdir", help="output directory (default: out/<scenario file name>-sharing)")
    _add_set(sh)

    from qzopt.bench.options import parser as bench_parser, run as bench_run  # the harness loads when it runs

    bench_parser(sub.add_parser("bench", help="run benchmark suites (see docs/performance.md)")).set_defaults(
        func=bench_run)
    return p


def _add_set(p: argparse.ArgumentParser) -> None:
    p.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                   help="override a scenario field for this run, e.g. --set fees.mode=none "
                        "--set constraints.max_distance=80 (repeatable; the value is read as YAML)")


def _overrides(args: argparse.Namespace) -> dict[str, str]:
    from qzopt.errors import QzoptError

    out = {}
    for item in getattr(args, "set", []) or []:
        key, eq, value = item.partition("=")
        if not eq or not key.strip():
            raise QzoptError(f"--set {item!r}: expected FIELD=VALUE, e.g. --set fees.mode=none")
        if key.strip() in out:  # the later one would silently win
            raise QzoptError(f"--set {key.strip()} is given twice ({out[key.strip()]!r} and {value!r}); give it once")
        out[key.strip()] = value
    return out


def main(argv: Sequence[str] | None = None) -> int:
    from qzopt.errors import QzoptError

    args = _parser().parse_args(argv)
    # markup off: names, paths and messages are printed as they are ("demands[0]", "[A]" stay)
    # piped to a file or a log, rich would assume 80 columns and cut figures to "191,438,0…"
    console = Console(highlight=False, markup=False, width=None if sys.stdout.isatty() else 200,
                      log_path=False)  # progress lines without "cli.py:295" at their end
    err = Console(stderr=True, highlight=False, markup=False)
    try:
        if args.command == "solve":
            return _solve(args, console)
        if args.command == "validate":
            return _validate(args, console)
        if args.command == "solvers":
            return _solvers(console)
        if args.command == "share":
            return _share(args, console)
        if args.command == "frontier":
            return _frontier(args, console)
        if args.command == "report":
            return _report(args, console)
        if args.command == "compare":
            return _compare(args, console)
        if hasattr(args, "func"):  # subcommands that bring their own runner (bench)
            return args.func(args)
        _parser().print_help()
        return EXIT_INPUT
    except QzoptError as exc:
        err.print(Text.assemble(("error:", "bold red"), f" {exc}"), soft_wrap=True)
        return exc.exit_code
    except KeyboardInterrupt:
        err.print("interrupted")
        return 130


def _validate(args: argparse.Namespace, console: Console) -> int:
    from qzopt.geo.pairs import allowed_mask
    from qzopt.report.markdown import num
    from qzopt.scenario.checks import presolve_findings
    from qzopt.scenario.load import load_scenario

    sc = load_scenario(args.scenario, _overrides(args))
    if sc.fees is not None and sc.fees.active and sc.fees.mode == "banded":
        from qzopt.fees import strategy
        from qzopt.models import build_model

        strategy(sc, build_model(sc, presolve=False))  # refuses banded fees that have no exact form, as solve does
    mask = allowed_mask(sc)
    findings = presolve_findings(sc)
    console.print(Text.assemble(("checked" if findings else "ok", "yellow" if findings else "green"),
                                f": {args.scenario}: scenario {sc.name!r} ({sc.sector}) with "
                  f"{_count(len(sc.jurisdictions), 'jurisdiction')}, {_count(len(sc.demands), 'demand point')} "
                  f"({num(sc.demands['amount'].sum())} {sc.units.demand}), {_count(len(sc.sites), 'site')}, "
                  f"{_count(len(sc.sizes), 'size option')}, {_count(int(mask.sum()), 'allowed pair')}."))
    for w in sc.extras.get("warnings") or []:
        console.print(Text(f"warning: {w}", style="yellow"))
    if findings:
        console.print(Text("but it cannot be satisfied:", style="bold red"))
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

    sc = load_scenario(args.scenario, _overrides(args))
    outdir = outdir_of(args, Path("out") / Path(args.scenario).stem)
    with console.status(f"solving {sc.name}…", spinner="dots") as status:
        def event(msg: str) -> None:
            status.update(f"{sc.name}: {msg}")
            console.log(msg)

        # --fallback "" is no fallback at all ([]); not given (None), the scenario's (or the default chain)
        res = solve(sc, solver=args.solver, time_limit=args.time_limit, gap=args.gap, fallback=args.fallback,
                    threads=args.threads, verbose=args.verbose, isolate=not args.no_isolate, on_event=event)
    # which scenario this is, for `qzopt report --frontier/--sharing` (refuses add-ons of another version of it)
    res.extra["scenario_digest"] = {"with_fees": sc.digest(), "without_fees": sc.digest(fees=False)}
    with console.status("writing the results and the report…"):
        stale = args.no_html and (outdir / "report.html").exists()
        res.write(outdir, html=not args.no_html)
        if stale:
            console.print(f"removed {outdir / 'report.html'}: it was the report of an earlier run (--no-html)")
    print_summary(res, console)
    console.print(f"wrote {outdir}/result.json, facilities.csv, assignments.csv, demands.csv, jurisdictions.csv, "
                  + "".join(f"{name}, " for name in res.section_tables())
                  + "report.md" + ("" if args.no_html else ", report.html"), soft_wrap=True)
    if res.status in ("optimal", "feasible"):
        return EXIT_OK
    return EXIT_INFEASIBLE if res.status == "infeasible" else EXIT_SOLVER


def _report(args: argparse.Namespace, console: Console) -> int:
    from qzopt.report.files import write_report

    for option, value in (("-o", args.output), ("--frontier", args.frontier), ("--sharing", args.sharing)):
        _not_empty(value, option)
    with console.status("drawing the report…"):
        written = write_report(args.result, frontier=args.frontier, sharing=args.sharing, output=args.output)
    console.print(f"wrote {written.html} and {written.md}"
                  + (f" (with {', '.join(written.extras)})" if written.extras else ""), soft_wrap=True)
    return EXIT_OK


def _compare(args: argparse.Namespace, console: Console) -> int:
    from qzopt.report.compare import key_figures, load_runs, write_compare

    _not_empty(args.output, "-o")
    runs = load_runs(args.runs)
    with console.status(f"comparing {len(runs)} plans…"):
        html_path, md_path = write_compare(runs, args.output)
    figures = key_figures(runs)
    t = Table(title="key figures", title_justify="left")
    for c in figures.columns:
        t.add_column(str(c), justify="left" if c == "figure" else "right")
    for row in figures.itertuples(index=False):
        t.add_row(*[str(v) for v in row])
    console.print(t)
    console.print(f"wrote {html_path} and {md_path}", soft_wrap=True)
    return EXIT_OK


def _frontier(args: argparse.Namespace, console: Console) -> int:
    from qzopt.fees import frontier
    from qzopt.report.files import FRONTIER_DIGEST
    from qzopt.report.charts import frontier_chart
    from qzopt.report.markdown import frontier_intro, frontier_view, md_table, overrides_line
    from qzopt.scenario.load import load_scenario

    sc = load_scenario(args.scenario, _overrides(args))
    outdir = outdir_of(args, Path("out") / f"{Path(args.scenario).stem}-frontier")
    with console.status("solving the fee frontier…") as status:
        table = frontier(sc, caps=args.caps, points=args.points,
                         solve_kwargs={"solver": args.solver, "time_limit": args.time_limit},
                         on_event=lambda m: (status.update(m), console.log(m)))
    table.to_csv(outdir / "frontier.csv", index=False)
    (outdir / "frontier.json").write_text(table.to_json(orient="records", indent=2), encoding="utf-8")
    fee_unit = sc.units.fee_unit
    view = frontier_view(table, sc.units.money, fee_unit)  # the rows as the report shows them
    changed = overrides_line(sc.extras.get("overrides"))
    (outdir / "frontier.md").write_text(f"# Fee frontier: {sc.name}\n\nSector: {sc.sector}.  Fees in {fee_unit}; "
                                        f"costs in {sc.units.money}/yr.  {FRONTIER_DIGEST}: {sc.digest(fees=False)}."
                                        + (f"  Changed for this run (--set): {changed}." if changed else "")
                                        + "\n\n" + frontier_intro(table) + "\n\n" + md_table(view),
                                        encoding="utf-8")
    frontier_chart(table, fee_unit, sc.units.money, outdir / "frontier.png")
    t = Table(title=f"{sc.name}: fee frontier ({table['fee_rule'].iloc[0]})", title_justify="left")
    shown = view.drop(columns=["sites", "note"], errors="ignore").assign(
        opened=[_count(len(str(v).split(";")) if v else 0, "site") for v in table["sites"].fillna("")])
    for c in shown.columns:
        t.add_column(c, justify="left" if c in ("point", "status", "solver") else "right", overflow="fold")
    for row in shown.itertuples(index=False):
        t.add_row(*map(str, row))
    console.print(t)
    for cap, point, note in zip(table["fee_cap"], table["point"], table["note"]):
        if note:  # a cap's own note, and the frontier's (on its last row)
            label = point if cap is None or cap != cap else f"cap {cap:,.5g}"
            console.print(Text(f"{label}: {note}", style="yellow"))
    console.print(f"wrote {outdir}/frontier.csv, frontier.json, frontier.md, frontier.png", soft_wrap=True)
    return EXIT_OK


def _count(n: int, noun: str) -> str:
    """``n`` and ``noun``, plural unless ``n`` is 1 ("1 site", "3 sites")."""
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def _share(args: argparse.Namespace, console: Console) -> int:
    from qzopt.errors import QzoptError
    from qzopt.scenario.load import load_scenario
    from qzopt.sharing.coalitions import players_of
    from qzopt.sharing.share import method_names, share

    methods = method_names(args.method, flag="--method")  # a bad flag is refused before the file is read
    if args.samples is not None and "shapley" not in methods:  # it would be ignored without a word
        raise QzoptError(f"--samples {args.samples}: only the Shapley value is sampled, and --method "
                         f"{args.method} does not ask for it; add shapley to --method, or leave --samples out")
    sc = load_scenario(args.scenario, _overrides(args))
    try:
        players_of(sc, args.players)  # said as --players, not as share()'s argument `by`
    except ValueError as exc:
        raise QzoptError(f"--players {args.players}: {exc}") from None
    outdir = outdir_of(args, Path("out") / f"{Path(args.scenario).stem}-sharing")
    if args.cache is not None:
        output_dir(args.cache, "--cache")
    try:
        res = share(sc, by=args.players, methods=methods, territory=args.territory, solver=args.solver,
                    time_limit=args.time_limit, workers=args.workers, cache_dir=args.cache, samples=args.samples,
                    seed=args.seed)
    except ValueError as exc:
        raise QzoptError(str(exc)) from None
    res.write(outdir)
    res.print_console(console)
    console.print(f"wrote {outdir}/sharing.json, sharing.md, allocations.csv", soft_wrap=True)
    if res.allocations.empty or not len(res.allocations.columns):  # the files keep the coalitions and notes
        Console(stderr=True, highlight=False).print(
            f"error: none of the methods asked ({', '.join(methods)}) gives an allocation in this game: "
            "the notes above say why", soft_wrap=True)
        return EXIT_INFEASIBLE
    return EXIT_OK


def print_summary(res, console: Console) -> None:
    from qzopt.report.markdown import beyond_main_sites, money, num, pct, solve_facts

    colour = {"optimal": "green", "feasible": "yellow"}.get(res.status, "red")
    t = Table(show_header=False, title=f"{res.scenario}", title_justify="left")
    t.add_column(style="bold")
    t.add_column()
    for k, v in solve_facts(res):
        t.add_row(k, Text(v, style=colour) if k == "Status" else v)
    console.print(t)
    if res.message:
        console.print(res.message)
    for w in res.extra.get("warnings") or []:
        console.print(Text(f"warning: {w}", style="yellow"))
    for line in res.explanation:
        if line not in (res.message or ""):  # the message already says the first reason
            console.print(f"  - {line}")
    if res.ok:
        f = res.open_sites
        du, mu = res.units.get("demand", ""), res.units.get("money", "")
        # cold-chain hubs: the resources behind utilisation (the binding one's ratio)
        resources = [(f"peak ({du})", "peak_throughput"), ("cold storage (t)", "cold_storage")]
        resources = [(label, k) for label, k in resources if f"{k}_capacity" in f and f[f"{k}_capacity"].notna().any()]
        st = Table(title=f"{_count(len(f), 'site')} open (* = existing)", title_justify="left")
        cols = [("site", False), ("size", False), (f"load ({du})", True),
                ("utilisation" + (" (of the binding resource)" if resources else ""), True)]
        cols += [(label, True) for label, _ in resources] + [(f"cost ({mu}/yr)", True)]
        for col, right in cols:
            st.add_column(col, justify="right" if right else "left")
        for row in f.to_dict("records"):
            used = [f"{num(row[f'{k}_used'])} / {num(row[f'{k}_capacity'])} "
                    f"({pct(row[f'{k}_used'] / row[f'{k}_capacity'] if row[f'{k}_capacity'] else None)})"
                    for _, k in resources]
            st.add_row(f"{row['site']}{'*' if row['existing'] else ''}", str(row["size"]), num(row["load"]),
                       pct(row["utilisation"]), *used, money(row["total_cost_per_yr"]))
        console.print(st)
        beyond = beyond_main_sites(res)  # the total also pays for these: say so, not just the main stream's sites
        for line in beyond:
            console.print(f"  {line}")
        if beyond:
            console.print("  (the total cost covers these too; report.md lists them in full)")

if __name__ == "__main__":
    sys.exit(main())
