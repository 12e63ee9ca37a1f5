"""Cost sharing between jurisdictions: cooperative games, coalition costs, allocations."""

from qzopt.sharing.game import Game, MissingCoalition

__all__ = ["Game", "MissingCoalition"]
