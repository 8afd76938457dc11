"""`python -m bench [NAME [options]]`: run one benchmark, or all of them in turn.

Each benchmark is a module with a `main()` that parses sys.argv[1:]. To add one,
add its name and module to BENCHMARKS.
"""

from __future__ import annotations

import importlib
import os
import sys

# As `minima serve` runs (minima_grpc/__main__.py): one BLAS thread, set before
# numpy loads. Recall's matrix-vector products are too small to gain from more,
# and on a busy machine the extra threads make timings 5-10x slower and noisy.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

BENCHMARKS: dict[str, str] = {
    "engine": "bench.engine_bench",
    "health": "bench.health_bench",
    "memory": "bench.memory_bench",
    "mubit": "bench.mubit_bench",
    "rest-vs-grpc": "bench.rest_vs_grpc",
    "routing-quality": "bench.routing_quality",
}


def _run(name: str, options: list[str]) -> int:
    sys.argv = [f"bench {name}", *options]
    result = importlib.import_module(BENCHMARKS[name]).main()
    return result if isinstance(result, int) else 0


def main() -> int:
    if len(sys.argv) == 1:
        failures = 0
        for name in BENCHMARKS:
            print(f"== {name}", flush=True)
            failures += _run(name, []) != 0
        return 1 if failures else 0
    if sys.argv[1] not in BENCHMARKS:
        names = ", ".join(BENCHMARKS)
        print(f"usage: python -m bench [NAME [options]]  (NAME: {names})", file=sys.stderr)
        return 2
    return _run(sys.argv[1], sys.argv[2:])


if __name__ == "__main__":
    raise SystemExit(main())
