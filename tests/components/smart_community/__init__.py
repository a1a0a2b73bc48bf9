"""Tests of the smart_community integration."""
