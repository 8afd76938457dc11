"""`python -m minima_grpc` and the `minima` console script."""

from __future__ import annotations

import os

# One BLAS thread: the embedder's small matrix products gain nothing from more,
# and idle OpenBLAS threads spinning on a busy host made recall 3-7x slower.
# Set before numpy is first imported.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from minima_grpc.cli import main

__all__ = ["main"]

if __name__ == "__main__":
    raise SystemExit(main())
