"""Measure: sources, builders, timers, instruction counts and bytecode scenarios."""
