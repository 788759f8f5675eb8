"""Placeholder until the Ignition system fake lands."""
