"""Worker processes that end with the process they work for, however it ends.

A crawl or a re-extraction killed with SIGKILL runs no cleanup: its pool's workers would
wait on their task pipe for good (each holds that pipe's write end too, so it never sees
EOF), and a forkserver lives as long as any of its workers. `watch(pid)`, called in each
worker's initializer, starts a daemon thread that ends the worker the moment `pid` exits:
it blocks on a pidfd (Linux 5.3+), costing nothing meanwhile; elsewhere it polls.
"""

from __future__ import annotations

import os
import select
import threading
import time

POLL_SECONDS = 1.0


def _exit_when_gone(pid: int) -> None:
    pidfd = _pidfd(pid)
    if pidfd is not None:
        poller = select.poll()
        poller.register(pidfd, select.POLLIN)
        while not poller.poll():  # readable once the process has exited
            pass
    else:
        while is_alive(pid):
            time.sleep(POLL_SECONDS)
    os._exit(1)  # no cleanup: nothing of the parent's is left to clean up for


def _pidfd(pid: int) -> int | None:
    opener = getattr(os, "pidfd_open", None)
    if opener is None:
        return None
    try:
        fd: int = opener(pid)
    except ProcessLookupError:
        os._exit(1)  # already gone
    except OSError:  # old kernel, seccomp
        return None
    return fd


def is_alive(pid: int) -> bool:
    """True while process `pid` exists (a zombie counts, as for os.kill)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def watch(pid: int) -> None:
    """End this process (at once, no cleanup) when process `pid` exits."""
    threading.Thread(target=_exit_when_gone, args=(pid,), name="lifeline", daemon=True).start()
