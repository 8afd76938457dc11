"""Typed Python client for Minima."""
