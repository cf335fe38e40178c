"""CPU and memory of a process tree, sampled from /proc (used by bench_crawl)."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field

_CLK_TCK = os.sysconf("SC_CLK_TCK")


@dataclass
class TreeMemory:
    """Peak memory of a process tree, sampled from /proc (kB)."""

    peak_sum_rss: int = 0  # largest sum of VmRSS over the tree at one sampling instant
    hwm: dict[int, tuple[str, int]] = field(default_factory=dict)  # pid -> (name, VmHWM)
    cpu: dict[int, float] = field(default_factory=dict)  # pid -> user + system CPU seconds
    samples: int = 0

    def cpu_by_role(self) -> dict[str, float]:
        """CPU seconds (own threads only, last sample) summed per role."""
        out: dict[str, float] = {}
        for pid, seconds in self.cpu.items():
            role = self.hwm[pid][0]
            out[role] = out.get(role, 0.0) + seconds
        return out

    @property
    def root_hwm(self) -> int:
        """VmHWM of the sampled tree's first (root) process."""
        return next(iter(self.hwm.values()), ("", 0))[1]

    @property
    def largest_child_hwm(self) -> int:
        """The largest VmHWM among the root's descendants."""
        return max((kb for _, kb in list(self.hwm.values())[1:]), default=0)


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", encoding="ascii", errors="replace") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    return children


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of a live process's own threads (not its children)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / _CLK_TCK


def _status(pid: int) -> tuple[str, int, int] | None:
    """(name, VmRSS kB, VmHWM kB) of a live process, None when it is gone."""
    fields: dict[str, str] = {}
    try:
        with open(f"/proc/{pid}/status", encoding="utf-8") as f:
            for line in f:
                key, _, value = line.partition(":")
                fields[key] = value.strip()
    except OSError:
        return None
    if "VmRSS" not in fields:  # a zombie
        return None
    return fields["Name"], int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])


def _role(pid: int, parent_role: str) -> str:
    """What a descendant of the crawl is: forkserver, extraction worker, resource tracker."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmdline = f.read().replace(b"\0", b" ").decode("utf-8", "replace")
    except OSError:
        return "other"
    if parent_role == "forkserver":
        return "extraction worker"
    for marker, role in (("forkserver", "forkserver"), ("resource_tracker", "resource tracker")):
        if marker in cmdline:
            return role
    return "other"


def sample_tree(root: int, memory: TreeMemory, stop: threading.Event, every: float = 0.2) -> None:
    """Until stop is set: walk root's process tree and keep the peaks in ``memory``."""
    while not stop.is_set():
        children = _children_map()
        todo, total = [(root, "crawl")], 0
        while todo:
            pid, role = todo.pop()
            todo += [(c, _role(c, role)) for c in children.get(pid, [])]
            status = _status(pid)
            if status is None:
                continue
            _name, rss, hwm = status
            total += rss
            memory.hwm[pid] = (role, max(hwm, memory.hwm.get(pid, ("", 0))[1]))
            cpu = _cpu_seconds(pid)
            if cpu is not None:
                memory.cpu[pid] = max(cpu, memory.cpu.get(pid, 0.0))
        memory.peak_sum_rss = max(memory.peak_sum_rss, total)
        memory.samples += 1
        stop.wait(every)
