"""Analyse: pure statistics, comparisons and the gate; no processes, no files, no clock."""
