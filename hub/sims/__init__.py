"""Command-line front ends for the device simulators."""
