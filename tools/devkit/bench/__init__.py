"""Benchmarks that print figures (a table, then one JSON line); never used as pass/fail tests."""
