"""Medians over repeats, the match column, the ratio to the peer, and the printed tables."""

from __future__ import annotations

import os
import platform
from pathlib import Path

import numpy as np
import pandas as pd

#: Absolute tolerance on an objective to count as the published optimum (cap optima have 3 decimals).
MATCH_ABS = 1e-3


def machine() -> dict:
    """CPU model, logical cores and RAM (GB) of this machine (from /proc on Linux)."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1e9
    except (ValueError, OSError):
        ram = float("nan")
    return {"cpu": cpu, "cores": os.cpu_count(), "ram_gb": ram, "python": platform.python_version(),
            "system": platform.platform()}


def _match(group: pd.DataFrame) -> str:
    """``yes``: every run optimal at the published optimum; ``proved``: no published optimum and
    every run proved optimal (gap 0, or within the asked gap: ``gap<=1%``); else why not."""
    statuses = set(group["status"])
    if statuses == {"built"}:
        return "built"
    if statuses != {"optimal"}:
        return "/".join(sorted(statuses))
    opt = group["optimum"].iloc[0]
    obj = group["objective"].astype(float)
    if opt is not None and not pd.isna(opt):
        ok = (np.abs(obj - float(opt)) <= MATCH_ABS + 1e-9 * abs(float(opt))).all()
        return "yes" if ok else "NO"
    asked = float(group["asked_gap"].iloc[0] or 0.0)
    gaps = group["gap"].astype(float).fillna(0.0) if "gap" in group else pd.Series([0.0])
    if asked > 0:
        return f"gap<={asked:.0%}" if (gaps <= asked + 1e-12).all() else "NO"
    return "proved" if (gaps <= 1e-9).all() else "NO"


def summarise(runs: list[dict]) -> pd.DataFrame:
    """One row per (instance, solver): medians of the times and memory over repeats, the
    objective, the match column and, on qzopt rows, ``ratio`` = qzopt total / peer total."""
    df = pd.DataFrame(runs)
    for col in ("objective", "gap", "build_s", "solve_s", "total_s", "peak_mb", "size", "optimum", "bound"):
        if col not in df:
            df[col] = np.nan
    rows = []
    for (inst, solver), g in df.groupby(["instance", "solver"], sort=False):
        rows.append({
            "instance": inst, "solver": solver, "kind": g["kind"].iloc[0],
            "size": next((s for s in g["size"] if isinstance(s, str)), ""),
            "runs": len(g), "status": _status(g), "objective": g["objective"].dropna().median(),
            "gap": g["gap"].dropna().max() if g["gap"].notna().any() else np.nan,
            "optimum": g["optimum"].iloc[0], "match": _match(g),
            "build_s": g["build_s"].median(), "solve_s": g["solve_s"].median(), "total_s": g["total_s"].median(),
            "peak_mb": g["peak_mb"].median(),
        })
    s = pd.DataFrame(rows)
    s["ratio"] = np.nan
    s["peer_finished"] = pd.Series([None] * len(s), dtype=object)
    for inst, g in s.groupby("instance", sort=False):
        ours = g[g["solver"] == "qzopt"]
        peers = g[g["solver"] != "qzopt"]
        if len(ours) and len(peers):
            peer = peers.iloc[0]
            s.loc[ours.index, "ratio"] = ours["total_s"].iloc[0] / peer["total_s"]
            s.loc[ours.index, "peer_finished"] = bool(peer["status"] == "optimal")
    s["build_share"] = s["build_s"] / s["total_s"]
    return s


def _status(g: pd.DataFrame) -> str:
    statuses = list(dict.fromkeys(g["status"]))
    return statuses[0] if len(statuses) == 1 else "/".join(statuses)


def _fmt(v, spec: str) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return ""
    return format(v, spec)


def print_summary(s: pd.DataFrame, console, args=None) -> None:
    """The table of the issue: instance, size, objective, published optimum, match, build s,
    solve s, total s, peak memory, and the ratio qzopt/peer (total time, same run)."""
    from rich.table import Table

    reps = getattr(args, "repeats", None)
    t = Table(title=f"benchmark (medians of {reps} run(s) per solver)" if reps else "benchmark")
    cols = ["instance", "size", "solver", "status", "objective", "published", "match", "build s", "solve s",
            "total s", "peak MB", "qzopt/peer"]
    for c in cols:
        t.add_column(c, justify="left" if c in ("instance", "size", "solver", "status", "match") else "right")
    for r in s.itertuples():
        timed_out = r.status == "timeout"
        total = f">{r.total_s:.0f}" if timed_out else _fmt(r.total_s, ".2f")
        t.add_row(r.instance, r.size, r.solver, r.status, _fmt(r.objective, ",.3f"), _fmt(r.optimum, ",.3f"),
                  r.match, _fmt(r.build_s, ".2f"), _fmt(r.solve_s, ".2f"), total, _fmt(r.peak_mb, ".0f"),
                  _ratio(r))
    console.print(t)


def _ratio(r) -> str:
    if pd.isna(r.ratio):
        return ""
    return f"{r.ratio:.3f}" + ("" if r.peer_finished else " (peer unfinished)")


def markdown(s: pd.DataFrame) -> str:
    """The summary as a Markdown table (for docs/performance.md)."""
    head = ("| instance | size | solver | status | objective | published | match | build s | solve s | total s "
            "| peak MB | qzopt/peer |")
    lines = [head, "|" + "---|" * 12]
    for r in s.itertuples():
        total = f">{r.total_s:.0f}" if r.status == "timeout" else _fmt(r.total_s, ".2f")
        lines.append(f"| {r.instance} | {r.size} | {r.solver} | {r.status} | {_fmt(r.objective, ',.3f')} | "
                     f"{_fmt(r.optimum, ',.3f')} | {r.match} | {_fmt(r.build_s, '.2f')} | {_fmt(r.solve_s, '.2f')} | "
                     f"{total} | {_fmt(r.peak_mb, '.0f')} | {_ratio(r)} |")
    return "\n".join(lines) + "\n"
