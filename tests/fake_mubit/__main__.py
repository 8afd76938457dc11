"""Run the fake Mubit on its own: `python -m tests.fake_mubit --key mbt_org_k_s [--port N]`.

Prints the endpoint URL on the first line of stdout, then serves until killed.
"""

from __future__ import annotations

import argparse
import threading

from .server import FakeMubit


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0 = any)")
    parser.add_argument("--key", action="append", default=[], help="an accepted API key")
    args = parser.parse_args()
    fake = FakeMubit(keys=tuple(args.key)).start(args.port)
    print(fake.url, flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
