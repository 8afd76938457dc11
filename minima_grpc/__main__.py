"""`python -m minima_grpc` and the `minima` console script."""

from __future__ import annotations

from minima_grpc.cli import main

__all__ = ["main"]

if __name__ == "__main__":
    raise SystemExit(main())
