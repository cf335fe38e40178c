"""Where a crawl's time goes: py-spy over one `crawl --full` of the bench site.

Run: ``python -m bench.profile_crawl [--copies K] [--out DIR]`` (needs ``py-spy`` on PATH or
in the virtualenv: ``pip install py-spy``). Records every process of the crawl (the crawl
process with its threads, the forkserver, the extraction workers) with
``py-spy record --subprocesses --threads --format raw``, keeps the raw stacks in DIR, and
prints, per process role, the functions with the largest inclusive and self shares of the
samples. py-spy counts a thread that waits for the GIL as busy, so these are shares of
samples, not CPU; bench_crawl's CPU ms per page turns them into milliseconds.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
from collections import Counter
from pathlib import Path

from bench.bench_crawl import crawl_command, run_tree
from bench.benchsite import BenchSite, load_pages, serve

_PROCESSES = re.compile(r'^(?:process \d+:"[^"]*";)+')  # command lines may hold ";"
_PROCESS = re.compile(r'process \d+:"(?P<cmd>[^"]*)";')
_THREAD = re.compile(r"^thread \(\d+\)(?:: (?P<name>.*))?$")
_FRAME = re.compile(r"^(?P<fn>\S+) \((?P<file>[^:)]+)(?::\d+)?\)$")


def _role(cmdlines: list[str]) -> str:
    """The crawl, its forkserver or resource tracker, or a worker forked by the forkserver."""
    if len(cmdlines) >= 3 and "forkserver" in cmdlines[1]:
        return "extraction worker"
    if len(cmdlines) == 2:
        return "forkserver" if "forkserver" in cmdlines[1] else "mp helper"
    return "crawl process"


def _thread_role(name: str) -> str:
    if name.startswith("MainThread"):
        return "reactor thread"
    if name.startswith("archive-writer"):
        return "archive writer thread"
    if name.startswith("Thread-") or "QueueManager" in name:
        return "process pool manager thread"
    return "other threads"


def _short(frame: str) -> str:
    m = _FRAME.match(frame)
    if not m:
        return frame
    path = m["file"]
    for marker in ("site-packages/", "python3.11/", "/i16/", "/main/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{m['fn']} ({path})"


# Activities, first match wins: (name, roles it applies to, a frame that marks it).
ACTIVITIES = [
    ("idle: waiting in select/poll/locks (not CPU)", "", ("select (selectors.py",
     "wait (threading.py", "Queue.get (queue.py", "_worker (concurrent/futures/thread.py",
     "_recv (multiprocessing", "poll (selectors.py", "select.poll")),
    ("start-up: imports", "", ("_find_and_load (",)),
    ("ingest.record(): article, extraction, version rows, FTS (storage/ingest.py)", "crawl",
     ("record (storage/ingest.py",)),
    ("WARC write: deflate + digests (storage/warc.py)", "crawl",
     ("WarcStore.prepare_exchange", "WarcStore.append_prepared")),
    ("capture row, url_state, previous-capture lookup (crawler/writer.py _capture)", "crawl",
     ("ArchiveWriter._capture",)),
    ("writer batches: commits, futures (savepoints only in a retried batch)", "crawl",
     ("ArchiveWriter._run",)),
    ("pool feeding: pickling page bodies, pipe writes", "crawl", ("Queue._feed",
     "_ExecutorManagerThread")),
    ("Scrapy, Twisted, asyncio: downloads, scheduling, middlewares, spider", "crawl",
     ("CrawlerProcess.start", "run_crawl (crawler/runner.py")),
    ("trafilatura body extraction (bare_extraction)", "worker", ("bare_extraction (",)),
    ("metadata rules (crawler/extraction _assemble)", "worker", ("_assemble (crawler/extraction",)),
    ("decoding and HTML parsing (decode_html, load_html)", "worker",
     ("decode_html (", "load_html (")),
    ("fingerprints: content hash, simhash", "worker", ("content_hash (", "simhash (")),
    ("job and result pickling, pipes", "worker", ("_process_worker (", "_sendback_result")),
]  # fmt: skip


def by_activity(raw: Path) -> str:
    """Shares of the crawl process's and the workers' busy samples, by activity."""
    counts: dict[str, Counter[str]] = {"crawl": Counter(), "worker": Counter()}
    for line in raw.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        prefix = _PROCESSES.match(stack)
        role = _role([m["cmd"] for m in _PROCESS.finditer(prefix[0])] if prefix else [])
        kind = {"crawl process": "crawl", "extraction worker": "worker"}.get(role)
        if kind is None:
            continue
        frames = [_short(f) for f in stack[prefix.end() if prefix else 0 :].split(";")]
        leaf = frames[-1] if frames else ""
        name = "other"
        for activity, applies, marks in ACTIVITIES:
            if applies and applies != kind:
                continue
            where = [leaf] if activity.startswith("idle") else frames
            if any(f.startswith(m) or m in f for f in where for m in marks):
                name = activity
                break
        counts[kind][name] += int(count_text)
    out = []
    for kind, counter in counts.items():
        busy = sum(n for a, n in counter.items() if not a.startswith("idle"))
        out.append(f"## {kind}: {busy} busy samples (idle ones left out of the shares)")
        for activity, n in counter.most_common():
            if not activity.startswith("idle"):
                out.append(f"  {100 * n / max(busy, 1):5.1f}%  {activity}")
    return "\n".join(out)


def summarise(raw: Path, top: int = 25) -> str:
    """Per process role: samples, and the functions with the largest inclusive/self shares."""
    inclusive: dict[str, Counter[str]] = {}
    own: dict[str, Counter[str]] = {}
    totals: Counter[str] = Counter()
    for line in raw.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        prefix = _PROCESSES.match(stack)
        role = _role([m["cmd"] for m in _PROCESS.finditer(prefix[0])] if prefix else [])
        frames = stack[prefix.end() if prefix else 0 :].split(";")
        if frames and (thread := _THREAD.match(frames[0])):
            # Threads by name: the crawl process's reactor, archive writer, pool manager.
            if role == "crawl process":
                role = f"crawl process, {_thread_role(thread['name'] or '')}"
            frames = frames[1:]
        names = [_short(f) for f in frames]
        totals[role] += count
        inc = inclusive.setdefault(role, Counter())
        for name in set(names):
            inc[name] += count
        if names:
            own.setdefault(role, Counter())[names[-1]] += count
    out = []
    for role, total in totals.most_common():
        out.append(f"## {role}: {total} samples")
        out.append("inclusive:")
        for name, n in inclusive[role].most_common(top):
            out.append(f"  {100 * n / total:5.1f}%  {name}")
        out.append("self:")
        for name, n in own.get(role, Counter()).most_common(top):
            out.append(f"  {100 * n / total:5.1f}%  {name}")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> None:
    """Crawl the bench site under py-spy; print the summary and keep the raw stacks."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--copies", type=int, default=3)
    parser.add_argument("--rate", type=int, default=100, help="py-spy samples per second")
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "crawl-profile")
    parser.add_argument("--summarise", type=Path, help="only summarise this raw file")
    parser.add_argument("--quick", action="store_true", help="one copy")
    args = parser.parse_args(argv)
    if args.summarise:
        print(by_activity(args.summarise))
        print(summarise(args.summarise))
        return
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(spy).exists():
        raise SystemExit("py-spy not found: pip install py-spy")
    args.out.mkdir(parents=True, exist_ok=True)
    raw = args.out / "crawl.txt"
    site = BenchSite(load_pages(), copies=1 if args.quick else args.copies)
    with tempfile.TemporaryDirectory(prefix="bench-profile-") as tmp, serve(site) as running:
        cmd = crawl_command(site, Path(tmp), running)
        spied = [spy, "record", "--subprocesses", "--threads", "--format", "raw"]
        spied += ["-r", str(args.rate), "-o", str(raw), "--", *cmd]
        run = run_tree(spied, Path(tmp), running)
    print(run.output.strip()[-1500:])
    print(f"crawl under py-spy: {run.seconds:.1f}s, first request after {run.first_request:.2f}s")
    print(by_activity(raw))
    print(summarise(raw))


if __name__ == "__main__":
    main()
