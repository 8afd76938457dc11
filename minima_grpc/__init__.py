"""Minima: recommends the cheapest LLM expected to clear a caller's quality bar."""

__version__ = "0.1.0"
