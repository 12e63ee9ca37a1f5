"""Charts (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd


def frontier_chart(table: pd.DataFrame, fee_unit: str, money: str, path: str | Path) -> Path:
    """Total cost against the equalised fee cap, with the unconstrained optimum as a line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    capped = table[table["point"] == "capped"].dropna(subset=["total_cost_per_yr"])
    free = table[table["point"] != "capped"]
    fig, ax = plt.subplots(figsize=(6.4, 4.0), dpi=120)
    ax.plot(capped["fee_cap"], capped["total_cost_per_yr"] / 1e6, marker="o", label="with the fee cap")
    if len(free):
        ax.axhline(float(free["total_cost_per_yr"].iloc[0]) / 1e6, color="grey", linestyle="--",
                   label="no fee rule")
    ax.set_xlabel(f"fee cap ({fee_unit})")
    ax.set_ylabel(f"total cost (million {money}/yr)")
    ax.set_title("Price of equalising the fee")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return Path(path)
