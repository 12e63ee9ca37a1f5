"""Constraint blocks shared by every model; sector and fee blocks live beside these."""
