"""``make bench``: run every benchmark script in this folder and print its figures.

Each ``bench_*.py`` is a plain script with a ``main(quick: bool) -> None`` that prints
its own figures (and the baseline it is compared with, measured in the same run).
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.bench")
    parser.add_argument("--quick", action="store_true", help="shorter runs, rougher figures")
    parser.add_argument("only", nargs="*", help="run only these benchmarks (e.g. signalling)")
    args = parser.parse_args()
    here = Path(__file__).parent
    names = sorted(m.name for m in pkgutil.iter_modules([str(here)]) if m.name.startswith("bench_"))
    for name in names:
        if args.only and name.removeprefix("bench_") not in args.only:
            continue
        print(f"\n=== {name} ===", flush=True)
        started = time.perf_counter()
        module = importlib.import_module(f"tests.bench.{name}")
        module.main(quick=args.quick)
        print(f"--- {name} took {time.perf_counter() - started:.1f} s", flush=True)


if __name__ == "__main__":
    main()
