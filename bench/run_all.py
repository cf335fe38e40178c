"""Run every benchmark: each bench/bench_*.py module's ``main()``, one after another.

Run: ``python -m bench.run_all [--only NAME ...] [--quick] [--list]`` (``make bench``).

How a module's ``main`` is called, so that its own argparse never sees run_all's flags:

- ``main(quick=...)`` when it has a ``quick`` parameter;
- ``main(["--quick"])`` or ``main([])`` when it takes an ``argv`` parameter (such a module
  must accept ``--quick``);
- ``main()`` otherwise, with ``sys.argv`` set to the module's name alone; ``--quick`` is then
  not passed on, and run_all says so.

A failing benchmark is reported and the others still run; the exit status is 1 if any failed.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import sys
import time
import traceback
from collections.abc import Sequence
from pathlib import Path

BENCH_DIR = Path(__file__).parent


def discover() -> list[str]:
    """Names of the benchmarks (``bench_warc.py`` -> ``warc``), sorted."""
    return sorted(p.stem.removeprefix("bench_") for p in BENCH_DIR.glob("bench_*.py"))


def _normalise(name: str) -> str:
    return Path(name).stem.removeprefix("bench_")


def run_one(name: str, quick: bool) -> None:
    """Import bench.bench_<name> and call its main() as described in the module docstring."""
    module = importlib.import_module(f"bench.bench_{name}")
    main = module.main
    params = inspect.signature(main).parameters
    saved = sys.argv
    sys.argv = [f"bench/bench_{name}.py"]
    try:
        if "quick" in params:
            main(quick=quick)
        elif "argv" in params:
            main(["--quick"] if quick else [])
        else:
            if quick:
                print(f"[{name}] main() takes no arguments: running it in full", flush=True)
            main()
    finally:
        sys.argv = saved


def main(argv: Sequence[str] | None = None) -> int:
    """Run the selected benchmarks; 0 when all succeeded, 1 otherwise."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--only",
        action="append",
        metavar="NAME",
        help="run only this benchmark (e.g. crawl or bench_crawl); repeatable",
    )
    parser.add_argument("--quick", action="store_true", help="short runs, where supported")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    args = parser.parse_args(argv)
    names = discover()
    if args.list:
        print("\n".join(names))
        return 0
    if args.only:
        wanted = [_normalise(n) for n in args.only]
        unknown = [n for n in wanted if n not in names]
        if unknown:
            parser.error(f"unknown benchmark(s) {', '.join(unknown)}; known: {', '.join(names)}")
        names = [n for n in names if n in wanted]
    failed: list[str] = []
    for name in names:
        print(f"== bench {name} ==", flush=True)
        start = time.perf_counter()
        try:
            run_one(name, args.quick)
        except SystemExit as exc:  # an argparse error or sys.exit() inside a benchmark
            if exc.code not in (0, None):
                failed.append(name)
                print(f"[{name}] exited with {exc.code}", file=sys.stderr)
        except Exception:
            failed.append(name)
            traceback.print_exc()
        print(f"== bench {name}: {time.perf_counter() - start:.0f}s ==\n", flush=True)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
