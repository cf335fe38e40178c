"""A shared crawl frontier in Redis for several crawler processes (scrapy-redis, persistent).

scrapy-redis gives the shared request queue and dupefilter. What it does not give, and
an unattended archive needs, is added here, in Redis keys under `newsarchive:<spider>:`:

- one seeding per crawl epoch: only the first worker of an epoch enqueues the category
  pages, feeds, sitemaps and due revisits (`seeded`, with a TTL as a safety net); those
  requests bypass the dupefilter, so they are fetched again every epoch, but once;
- in-flight tracking: each worker records the requests it popped (`inflight:<worker>`)
  until they are fully processed, and sends a heartbeat (`workers`); a worker that stops
  beating (SIGKILL, lost host) has its in-flight requests put back in the queue by the
  others, so nothing it held is lost;
- a clean end: a worker stays alive while the queue has work or another live worker
  holds requests; the last one out ends the epoch (clears `seeded` and the dupefilter),
  so the next run fetches listed articles again (conditionally) like a single worker.

Politeness across workers lives in `RedisRateLimiter`: a per-host reservation of send
times, so N workers together keep one host's rate, instead of N times it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import threading
import time
from typing import Any

from scrapy import Request, Spider
from scrapy.utils.request import request_from_dict
from scrapy_redis.scheduler import Scheduler

from crawler.politeness import PoliteHTTPDownloadHandler

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 1.0
# A worker silent this long is taken for dead and its in-flight requests go back in the
# queue. Generous, so a busy but live worker on a loaded host keeps its work.
DEAD_AFTER_SECONDS = float(os.environ.get("NEWSARCHIVE_WORKER_DEAD_AFTER", "30"))
EPOCH_GRACE_SECONDS = 3.0
KEY_PREFIX = "newsarchive:%(spider)s"

# Reserve the next send time for a host: returns how long the caller must wait (ms).
_RESERVE = """
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local nxt = tonumber(redis.call('GET', KEYS[1]) or '0')
local at = math.max(now, nxt)
redis.call('SET', KEYS[1], at + interval, 'PX', math.ceil(interval + (at - now) + 60000))
return at - now
"""


def worker_id() -> str:
    """host:pid of this process: unique across crawler hosts on a shared frontier."""
    return f"{socket.gethostname()}:{os.getpid()}"


class FrontierScheduler(Scheduler):  # type: ignore[misc]
    """scrapy-redis' scheduler plus epochs, in-flight tracking and dead-worker recovery."""

    def open(self, spider: Spider) -> Any:
        result = super().open(spider)
        self.spider = spider
        self.me = worker_id()
        base = KEY_PREFIX % {"spider": spider.name}
        self.k_workers = f"{base}:workers"
        self.k_seeded = f"{base}:seeded"
        self.k_epoch = f"{base}:epoch_started"
        self.k_inflight = f"{base}:inflight:{self.me}"
        self._stop = threading.Event()
        self._beat()
        self._thread = threading.Thread(target=self._beat_loop, name="frontier-beat", daemon=True)
        self._thread.start()
        services = getattr(spider, "services", None)
        if services is not None:
            services.frontiers[spider.name] = self
        return result

    # -- heartbeats and in-flight requests --------------------------------------------------

    def _beat(self) -> None:
        self.server.hset(self.k_workers, self.me, repr(time.time()))

    def _beat_loop(self) -> None:
        while not self._stop.wait(HEARTBEAT_SECONDS):
            try:
                self._beat()
            except Exception:  # Redis blip: the next beat will tell
                log.warning("frontier heartbeat failed", exc_info=True)

    def next_request(self) -> Request | None:
        request: Request | None = super().next_request()
        if request is not None:
            self.server.hset(self.k_inflight, self._fp(request), self._encode(request))
        return request

    # In-flight requests are kept as the queue keeps them: the dict of Request.to_dict()
    # through the queue's own serializer (public scrapy-redis attribute), so a reclaimed
    # request goes back into the queue unchanged.
    def _encode(self, request: Request) -> bytes:
        return bytes(self.queue.serializer.dumps(request.to_dict(spider=self.spider)))

    def _decode(self, data: bytes) -> Request:
        return request_from_dict(self.queue.serializer.loads(data), spider=self.spider)

    def _fp(self, request: Request) -> str:
        fp = request.meta.get("na_fp")
        if fp is None:
            fp = f"{id(request):x}-{time.monotonic_ns():x}"
            request.meta["na_fp"] = fp
        return str(fp)

    def done(self, request: Request | None) -> None:
        """The request and everything it produced are archived: drop it from in-flight."""
        if request is None:
            return
        fp = request.meta.get("na_fp")
        if fp is not None:
            self.server.hdel(self.k_inflight, fp)

    # -- epochs -----------------------------------------------------------------------------

    def claim_seed(self, ttl_seconds: float) -> bool:
        """True for exactly one worker per epoch: that one enqueues the start requests.

        An epoch whose workers all died (nobody beating) is over: its flag is cleared, so
        the next run seeds instead of idling until the flag's TTL.
        """
        if not (set(self._live_workers()) - {self.me}) and len(self.queue) == 0:
            self.server.delete(self.k_seeded, self.k_epoch)
        won = bool(self.server.set(self.k_seeded, self.me, nx=True, ex=max(1, int(ttl_seconds))))
        if won:
            self.server.set(self.k_epoch, repr(time.time()), ex=max(1, int(ttl_seconds)))
        return won

    def _live_workers(self) -> dict[str, float]:
        now = time.time()
        beats = {
            (k.decode() if isinstance(k, bytes) else k): float(v)
            for k, v in self.server.hgetall(self.k_workers).items()
        }
        return {w: t for w, t in beats.items() if now - t < DEAD_AFTER_SECONDS}

    def reclaim_dead(self) -> int:
        """Put the in-flight requests of workers that stopped beating back in the queue."""
        now = time.time()
        moved = 0
        for raw, beat in self.server.hgetall(self.k_workers).items():
            worker = raw.decode() if isinstance(raw, bytes) else raw
            if worker == self.me or now - float(beat) < DEAD_AFTER_SECONDS:
                continue
            key = self.k_inflight.rsplit(":inflight:", 1)[0] + f":inflight:{worker}"
            claim = f"{key}:reclaim:{self.me}"
            try:
                self.server.rename(key, claim)  # atomic: one reclaimer wins
            except Exception:
                self.server.hdel(self.k_workers, worker)
                continue
            for data in self.server.hvals(claim):
                request = self._decode(data)
                request.dont_filter = True
                self.queue.push(request)
                moved += 1
            self.server.delete(claim)
            self.server.hdel(self.k_workers, worker)
            log.warning("reclaimed %d in-flight requests of dead worker %s", moved, worker)
        return moved

    def keep_alive(self) -> bool:
        """Called when this worker is idle: is there still work it may be handed?"""
        if self.reclaim_dead():
            return True
        if len(self.queue) > 0:
            return True
        for worker in self._live_workers():
            if worker != self.me:
                key = self.k_inflight.rsplit(":inflight:", 1)[0] + f":inflight:{worker}"
                if self.server.hlen(key):
                    return True
        started = self.server.get(self.k_epoch)
        return bool(started) and time.time() - float(started) < EPOCH_GRACE_SECONDS

    def close(self, reason: str) -> Any:
        self._stop.set()
        try:
            self.server.hdel(self.k_workers, self.me)
            if not self.server.hlen(self.k_inflight):
                self.server.delete(self.k_inflight)
            others = [w for w in self._live_workers() if w != self.me]
            if reason == "finished" and not others and len(self.queue) == 0:
                # Last one out ends the epoch: the next run seeds and fetches again.
                self.server.delete(self.k_seeded, self.k_epoch)
                self.df.clear()
        except Exception:
            log.warning("frontier cleanup failed", exc_info=True)
        return super().close(reason)


class RedisRateLimiter:
    """A per-host minimum interval between requests, shared by every worker."""

    def __init__(self, redis_url: str) -> None:
        import redis

        self.client = redis.Redis.from_url(redis_url)
        self._reserve = self.client.register_script(_RESERVE)

    def reserve(self, host: str, interval: float) -> float:
        """Book the next send slot for `host`; returns the seconds to wait before sending."""
        if interval <= 0:
            return 0.0
        now_ms = int(time.time() * 1000)
        wait_ms = self._reserve(
            keys=[f"newsarchive:rate:{host}"], args=[now_ms, int(interval * 1000)]
        )
        return max(0.0, float(wait_ms) / 1000.0)


class RateLimitedHTTPHandler(PoliteHTTPDownloadHandler):
    """Scrapy's HTTP handler, waiting for its host's booked send time first.

    The booking happens here, at the moment of sending, not earlier in a middleware:
    a request booked early and then held in a busy download slot would go out late, right
    next to the following one. Waiting here keeps the gaps between actual sends.
    """

    def __init__(self, crawler: Any) -> None:
        super().__init__(crawler)
        url = crawler.settings.get("NEWSARCHIVE_FRONTIER")
        self.limiter = RedisRateLimiter(url) if url else None
        self._locks: dict[str, asyncio.Lock] = {}

    async def download_request(self, request: Request) -> Any:
        interval = float(request.meta.get("na_host_interval") or 0.0)
        if self.limiter is not None and interval > 0:
            key = request.meta.get("download_slot") or request.url.split("/", 3)[2]
            # One request per host at a time waits for its turn in this process, and a
            # turn missed (the event loop was busy past it) is booked again: otherwise
            # several late sleepers would wake together and go out back to back.
            async with self._locks.setdefault(key, asyncio.Lock()):
                for _ in range(10):
                    wait = self.limiter.reserve(key, interval)
                    turn = time.time() + wait
                    if wait > 0:
                        await asyncio.sleep(wait)
                    if time.time() - turn <= interval / 2:
                        break
        return await super().download_request(request)
