"""`python -m bench [NAME ...]`: run benchmarks by module name (bench/NAME.py, each with a main()); no name lists them.

Benchmarks run against real servers on loopback and print their numbers; results are recorded in bench/README.md.
"""

import importlib
import os
import pkgutil
import sys
from pathlib import Path

# Benchmarks measure the service, not its per-client rate limits (api/ratelimit.py): their load comes from one address.
os.environ.setdefault("MONITOR_RATE_LIMIT_READS", "none")
os.environ.setdefault("MONITOR_RATE_LIMIT_WRITES", "none")


def available() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)]) if not m.name.startswith("_"))


def main(names: list[str]) -> None:
    if not names:
        print("benchmarks:", ", ".join(available()))
        print("run: make bench BENCH='name [name ...]'   (see bench/README.md)")
        return
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        module.main()


if __name__ == "__main__":
    main(sys.argv[1:])
