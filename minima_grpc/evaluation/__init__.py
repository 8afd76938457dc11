"""Routing-quality evaluation: replay a routing dataset through Minima and score it.

Nothing here is imported by the server; the CLI commands `minima eval` and
`minima seed` are the entry points.
"""
