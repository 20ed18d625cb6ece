"""Inspect: the stdlib-only probe run inside each environment, its records and import times."""
