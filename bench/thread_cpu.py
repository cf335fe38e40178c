"""CPU of each thread of the crawl process, per article page, from /proc.

Run: ``python -m bench.thread_cpu [--copies K]``.

Runs one ``crawl --full`` of the bench site (the site and config of ``bench_crawl``) and
reads ``/proc/PID/task/*/stat`` every 0.1 s. Python 3.11 leaves OS threads unnamed, so they
are listed by start order (thread ids relative to the process id): the main thread (0) runs
start-up, Scrapy and the pipeline; the archive writer starts next and does the most work
of the others; warc-deflate starts with the first capture; the process pool's feeder and
manager threads with the first extraction. Prints, writes nothing.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from bench.bench_crawl import crawl_command
from bench.benchsite import BenchSite, load_pages, serve


def thread_cpu(pid: int) -> dict[int, float]:
    """User + system CPU seconds of each live thread of process `pid`."""
    tick = os.sysconf("SC_CLK_TCK")
    out: dict[int, float] = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat", encoding="ascii") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        out[int(tid)] = (int(fields[11]) + int(fields[12])) / tick
    return out


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--copies", type=int, default=3, help="the 181 pages repeated K times")
    args = parser.parse_args(argv)
    site = BenchSite(load_pages(), copies=args.copies, per_page=20)
    last: dict[int, float] = {}
    with tempfile.TemporaryDirectory(prefix="bench-threads-") as tmp, serve(site) as running:
        cmd = crawl_command(site, Path(tmp), running)
        proc = subprocess.Popen(cmd, cwd=tmp, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        while proc.poll() is None:
            try:
                last.update(thread_cpu(proc.pid))  # a thread that ended keeps its last value
            except FileNotFoundError:
                break
            time.sleep(0.1)
        output = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
        proc.wait()
    pages = site.article_count
    print(output.strip().splitlines()[-1] if output.strip() else f"exit {proc.returncode}")
    print(f"crawl process: {1000 * sum(last.values()) / pages:.1f} CPU ms per article page")
    for tid, cpu in sorted(last.items()):
        if cpu >= 0.01:
            print(
                f"  thread {tid - proc.pid:>4}: {1000 * cpu / pages:5.2f} ms per page ({cpu:.2f} s)"
            )


if __name__ == "__main__":
    main()
