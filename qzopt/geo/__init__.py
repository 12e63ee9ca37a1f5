"""Geography: distances between demand points and sites, and the sparse set of allowed pairs."""
