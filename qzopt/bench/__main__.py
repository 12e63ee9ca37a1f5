"""``python -m qzopt.bench`` (= ``qzopt bench``): run benchmark suites and print the figures.

    python -m qzopt.bench --suite orlib-pmed --instances pmed1,pmed6 --repeats 3 -o bench-out

Every (solver, instance) run happens in its own process; medians over ``--repeats`` runs are
reported, and the ratio qzopt/peer uses figures from this same run.  Results go to
``<out>/runs.csv`` (every run), ``<out>/summary.csv``, ``summary.json`` and ``summary.md`` (medians).
``python -m qzopt.bench --summarise <out>`` re-prints the tables of a stopped run from its runs.csv.
"""

from __future__ import annotations

import argparse
import json
import platform
import signal
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from qzopt.bench.options import command, parser
from qzopt.bench.report import machine, markdown, print_summary, print_targets, summarise, targets, targets_markdown
from qzopt.bench.runner import measure
from qzopt.bench.suites import SUITES, Instance, shared_dir, suite
from qzopt.cli import output_dir
from qzopt.errors import QzoptError, few_names

if TYPE_CHECKING:
    import pandas as pd


def run(args: argparse.Namespace) -> int:
    """Run the harness with parsed options; returns an exit code (0 unless a qzopt run missed)."""
    from rich.console import Console
    from rich.text import Text

    console = Console(highlight=False, width=None if sys.stdout.isatty() else 200)
    try:  # every option is checked before the first instance runs, and before -o is created
        if args.outdir is not None and not args.outdir:
            output_dir(args.outdir)  # -o "" (an unset $OUT) is refused, not read as "no output"
        if args.summarise:
            return _resummarise([Path(d) for d in args.summarise], Path(args.outdir) if args.outdir else None,
                                console)
        shared = Path(args.shared) if args.shared else shared_dir()
        if args.shared and not shared.is_dir():
            raise QzoptError(f"--shared {args.shared}: no such folder (it holds benchmarks/orlib and "
                             "benchmarks/orlib-large)")
        instances = chosen(args.suite, args.instances, shared)
        if args.outdir is not None:
            if (Path(args.outdir) / "runs.csv").exists():  # its runs would be overwritten, its summaries go stale
                raise QzoptError(f"-o {args.outdir}: holds the runs.csv of an earlier run; name a new folder "
                                 "(`qzopt bench --summarise` joins the runs of several)")
            output_dir(args.outdir)
    except (ValueError, QzoptError) as exc:
        Console(stderr=True, highlight=False).print(Text.assemble(("error:", "bold red"), f" {exc}"),
                                                    soft_wrap=True)
        return 2
    missing = [i for i in instances if i.path and not Path(i.path).exists()]
    if missing:
        console.print(f"[yellow]skipping {len(missing)} instance(s) whose file is missing: "
                      f"{', '.join(i.path for i in missing)} (the benchmarks folder: --shared or $QZOPT_SHARED)")
        instances = [i for i in instances if i not in missing]
    runs: list[dict] = []
    started = time.time()
    plan = _plan(instances, args, console)
    previous = signal.signal(signal.SIGTERM, _interrupt)  # a kill stops the worker too, as Ctrl-C does
    try:
        with console.status("") as status:
            for k, (inst, solver, rep) in enumerate(plan):
                if solver != "qzopt" and rep and runs[-1]["solver"] == solver and runs[-1]["status"] == "timeout":
                    continue  # a peer that cannot finish once will not finish on the next repeat
                status.update(f"run {k + 1} of {len(plan)}: {inst.name} {solver} #{rep + 1} "
                              f"(at most {args.time_limit:g} s)")
                out = measure(solver, inst, args.time_limit)
                out.update(instance=inst.name, kind=inst.kind, solver=solver, repeat=rep, optimum=inst.optimum,
                           asked_gap=inst.gap)
                runs.append(out)
                if args.outdir:  # written as we go: a long run that is stopped keeps what finished
                    _write_runs(runs, Path(args.outdir))
                obj, mb = out.get("objective"), out.get("peak_mb")
                console.print(f"[dim]{inst.name:<20} {solver:<10} #{rep + 1}: {out['status']:<8} "
                              f"{'' if obj is None else f'{obj:,.3f}':>16}  {out.get('total_s', 0):8.2f} s "
                              f"{'' if mb is None else f'{mb:7.0f} MB'}  {out.get('message', '')}[/]")
    except KeyboardInterrupt:
        kept = f"; its {len(runs)} finished run(s) are in {Path(args.outdir) / 'runs.csv'}: `qzopt bench " \
               f"--summarise {args.outdir}` prints their tables" if args.outdir and runs else ""
        Console(stderr=True, highlight=False).print(f"interrupted: the running worker was stopped{kept}")
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)
    if not runs:
        console.print("[red]no instance to run")
        return 2
    summary = summarise(runs)
    print_summary(summary, console, args)
    print_targets(targets(summary), console)
    info = machine()
    console.print(f"machine: {info['cpu']}, {info['cores']} cores, {info['ram_gb']:.0f} GB RAM; "
                  f"Python {platform.python_version()}; {time.time() - started:.0f} s in all")
    if args.outdir:
        out = Path(args.outdir)
        out.mkdir(parents=True, exist_ok=True)
        _write_runs(runs, out)
        summary.to_csv(out / "summary.csv", index=False)
        (out / "summary.md").write_text(markdown(summary) + "\n" + targets_markdown(targets(summary)))
        payload = {"machine": info, "command": command(args),
                   "options": {k: v for k, v in vars(args).items() if k not in ("func", "command")},
                   "summary": json.loads(summary.to_json(orient="records"))}
        (out / "summary.json").write_text(json.dumps(payload, indent=2))
        console.print(f"wrote {out / 'runs.csv'}, {out / 'summary.csv'}, {out / 'summary.json'}, "
                      f"{out / 'summary.md'}", soft_wrap=True)
    ours = summary[summary["solver"] == "qzopt"]
    ok = ours["match"].isin(["yes", "proved", "built"]) | ours["match"].str.startswith("gap<=")
    return 0 if ok.all() else 1


def _plan(instances: list[Instance], args: argparse.Namespace, console) -> list[tuple[Instance, str, int]]:
    """The runs to make, in order: (instance, solver, repeat), qzopt's and then its peer's (a peer
    that is not installed is said once and left out)."""
    from qzopt.bench.cases import peer_missing, peer_of

    plan, skipped = [], set()
    for inst in instances:
        peer = peer_of(inst.kind) if args.peers else None
        if peer and peer_missing(peer):
            if peer not in skipped:  # said once: a peer that is not installed is not a failed run
                console.print(f"[yellow]peer {peer} skipped: {peer_missing(peer)}")
                skipped.add(peer)
            peer = None
        for solver in ["qzopt"] + ([peer] if peer else []):
            repeats = args.repeats if solver == "qzopt" or not args.peer_repeats else args.peer_repeats
            plan += [(inst, solver, rep) for rep in range(repeats)]
    return plan


def _interrupt(signum, frame) -> None:
    """SIGTERM as Ctrl-C: the running worker's process group is killed (:func:`runner.measure`)."""
    raise KeyboardInterrupt


def chosen(suites: str, names: str | None, shared: Path) -> list[Instance]:
    """The instances of the comma-separated ``suites``, kept to the comma-separated ``names`` when
    given; ``ValueError`` names an unknown suite or instance (with the names that exist)."""
    wanted = [s.strip() for s in suites.split(",") if s.strip()]
    unknown = [s for s in wanted if s not in SUITES + ("all",)]
    if unknown or not wanted:
        raise ValueError(f"--suite {suites!r}: unknown suite {', '.join(unknown) or '(none given)'}; "
                         f"known: {', '.join(SUITES + ('all',))}")
    instances = [inst for name in wanted for inst in suite(name, shared)]
    if names is None:
        return instances
    keep = [n.strip() for n in names.split(",") if n.strip()]
    known = {i.name for i in instances}
    lost = [n for n in keep if n not in known]
    if lost or not keep:
        listed = ", ".join(i.name for i in instances[:8]) + (", ..." if len(instances) > 8 else "")
        raise ValueError(f"--instances {names!r}: {', '.join(lost) or '(none given)'} not in suite "
                         f"{', '.join(wanted)} (its instances: {listed})")
    return [i for i in instances if i.name in keep]


def _resummarise(dirs: list[Path], out: Path | None, console) -> int:
    """Summarise the runs.csv of one or several earlier runs (e.g. suites run one at a time)."""
    import pandas as pd

    if out is not None and len(dirs) > 1 and any(out.resolve() == d.resolve() for d in dirs):
        raise QzoptError(f"-o {out}: that is one of the folders summarised, whose runs.csv holds only its own "
                         "runs; name a new folder for the runs of all of them")
    missing = [str(d / "runs.csv") for d in dirs if not (d / "runs.csv").exists()]
    if missing:
        raise QzoptError(f"--summarise: no runs.csv in {', '.join(missing)} (a folder `qzopt bench -o DIR` wrote)")
    frames = []
    for d in dirs:
        try:
            frame = pd.read_csv(d / "runs.csv")
        except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError, OSError) as exc:
            raise QzoptError(f"{d / 'runs.csv'}: not a runs.csv of qzopt bench "
                             f"({exc.strerror if isinstance(exc, OSError) else exc})") from None
        lacking = [c for c in RUNS_COLUMNS if c not in frame.columns]
        if lacking or frame.empty:
            raise QzoptError(f"{d / 'runs.csv'}: not a runs.csv of qzopt bench ("
                             + (f"no column(s) {', '.join(lacking)}" if lacking else "no runs") + ")")
        for col in NUMBER_COLUMNS:
            if col in frame:
                bad = frame[col][pd.to_numeric(frame[col], errors="coerce").isna() & frame[col].notna()]
                if len(bad):
                    raise QzoptError(f"{d / 'runs.csv'}: column {col}, row {bad.index[0] + 2}: {bad.iloc[0]!r} is "
                                     "not a number")
        frames.append(frame.assign(folder=str(d)))
    frame, replaced = latest_runs(frames, [str(d) for d in dirs])
    if replaced:
        console.print(f"runs of {len(replaced)} instance/solver pair(s) are in several folders; the last folder "
                      f"given replaces the earlier ones' runs: {few_names(replaced)}")
    runs = frame.astype(object).where(frame.notna(), None).to_dict("records")
    summary = summarise(runs)
    print_summary(summary, console)
    print_targets(targets(summary), console)
    if out is None and len(dirs) > 1:  # dirs[0]/runs.csv would take the others' runs: never merged in place
        console.print("wrote nothing: the runs of several folders are written together only with -o DIR "
                      "(a new folder: runs.csv, summary.csv, summary.md)")
        return 0
    out = output_dir(out) if out else dirs[0]
    joined = out.resolve() != dirs[0].resolve()
    if joined:  # with each run's folder: the new folder's runs.csv can be summarised again
        _write_runs(runs, out)
    summary.to_csv(out / "summary.csv", index=False)
    (out / "summary.md").write_text(markdown(summary) + "\n" + targets_markdown(targets(summary)))
    old = dirs[0] / "summary.json"  # the machine and command of the run; the summary itself anew
    try:
        payload = json.loads(old.read_text()) if len(dirs) == 1 and old.is_file() else {}
    except (OSError, ValueError):
        payload = {}
    payload.update(summarised=[str(d) for d in dirs], summary=json.loads(summary.to_json(orient="records")))
    (out / "summary.json").write_text(json.dumps(payload, indent=2))
    console.print(f"wrote {out / 'summary.csv'}, {out / 'summary.json'}, {out / 'summary.md'}"
                  + (f", {out / 'runs.csv'}" if joined else ""), soft_wrap=True)
    return 0


#: Columns a runs.csv must have to be summarised, and those that must hold numbers where filled.
RUNS_COLUMNS = ("instance", "solver", "kind", "status", "total_s")
NUMBER_COLUMNS = ("objective", "bound", "gap", "build_s", "solve_s", "total_s", "tables_s", "peak_mb", "optimum",
                  "asked_gap")


def latest_runs(frames: list[pd.DataFrame], names: list[str]) -> tuple[pd.DataFrame, list[str]]:
    """The runs of several folders (``frames``, in the order given, named ``names``) as one table
    in which each (instance, solver) pair keeps only the runs of the last folder holding it, so a
    re-run replaces an earlier run instead of being pooled into one median with it (runs of other
    commits or machines).  Also returns "instance/solver (last over earlier, ...)" for each pair
    that was in more than one folder."""
    import pandas as pd

    seen: dict[tuple, list[int]] = {}  # (instance, solver) -> the folders holding it, in order
    for k, frame in enumerate(frames):
        for pair in dict.fromkeys(zip(frame["instance"], frame["solver"])):
            seen.setdefault(pair, []).append(k)
    kept = [frame[[seen[pair][-1] == k for pair in zip(frame["instance"], frame["solver"])]]
            for k, frame in enumerate(frames)]
    replaced = [f"{i}/{s} ({names[ks[-1]]} over {', '.join(names[k] for k in ks[:-1])})"
                for (i, s), ks in seen.items() if len(ks) > 1]
    return pd.concat(kept, ignore_index=True), replaced


def _write_runs(runs: list[dict], out: Path) -> None:
    import pandas as pd

    out.mkdir(parents=True, exist_ok=True)
    pd.DataFrame([{k: v for k, v in r.items() if k != "trace"} for r in runs]).to_csv(out / "runs.csv", index=False)


def main(argv: Sequence[str] | None = None) -> int:
    return run(parser().parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
