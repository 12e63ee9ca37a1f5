"""What this machine lets qzopt run side by side: the whole cores the process may use."""

from __future__ import annotations

import os


def cores() -> int:
    """Whole cores this process may use: those it may run on, fewer when a cgroup (v2) CPU
    quota caps it (a container started with ``--cpus=1`` sees every core of its host)."""
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        n = os.cpu_count() or 1
    try:
        with open("/sys/fs/cgroup/cpu.max") as f:
            quota = cpu_quota(f.read())
    except OSError:
        quota = None
    return n if quota is None else max(1, min(n, int(quota)))


def cpu_quota(cpu_max: str) -> float | None:
    """CPUs allowed by a cgroup v2 ``cpu.max`` line (``"<quota> <period>"`` in microseconds, or
    ``"max <period>"``: no quota, None)."""
    parts = cpu_max.split()
    if len(parts) != 2 or parts[0] == "max":
        return None
    try:
        return float(parts[0]) / float(parts[1])
    except (ValueError, ZeroDivisionError):
        return None
