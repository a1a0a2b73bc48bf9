"""Simulators for every device kind, speaking the real protocol on loopback, for the demo and the tests; and their
command-line front ends (``community-hub sim ...``)."""
