"""Results with a memory: a plain-file history store, trends, change points, dashboard, compare."""
