"""Run one back end on one model in a separate process (``python -m qzopt.solvers.worker IN OUT``).

The parent pickles ``(backend name, MatrixForm, SolveOptions)`` to IN; the worker writes the
:class:`RawSolution` to OUT.  A solver that crashes (segfault, abort, out of memory) takes only
this process down; the parent reads the exit code and falls back to the next back end.
"""

from __future__ import annotations

import pickle
import sys
import traceback


def main(argv: list[str]) -> int:
    src, dst = argv[1], argv[2]
    with open(src, "rb") as fh:
        name, model, options = pickle.load(fh)
    from qzopt.solvers.registry import get_backend

    try:
        raw = get_backend(name).solve(model, options)
    except Exception as exc:  # a back end bug: report it, the parent decides what next
        from qzopt.solvers.base import RawSolution

        raw = RawSolution(solver=name, status="error", termination="exception",
                          message=f"{exc.__class__.__name__}: {exc}", log=traceback.format_exc())
    with open(dst, "wb") as fh:
        pickle.dump(raw, fh, protocol=pickle.HIGHEST_PROTOCOL)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
