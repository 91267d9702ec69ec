"""Open-loop HTTP/1.1 load generator with a small CPU cost per request.

Why not httpx/aiohttp: on this 2-core machine the load generator shares the cores
with the server it measures. ``httpx.AsyncClient`` spent about 5 ms of CPU per
request (measured: 99% of a core at 200 req/s while the server used 47%), so it
measured itself. Here each request is a pre-built byte string written on a
keep-alive connection and each response is parsed by ``httptools`` (llhttp, C),
on uvloop when it is installed: tens of microseconds per request.

Open loop: request *i* is due at ``t0 + i / rate`` whatever came back before, and
its latency runs from that due time (as wrk2 does), so a stall on either side shows
up in the tail instead of being hidden by a late send (coordinated omission). The
generator's own lateness in sending is reported separately (``send_lag_ms``).

    python benchmarks/loadgen.py SPEC.json    # writes SPEC["out"]

SPEC: ``url``, ``path``, ``content_type``, ``rate``, ``duration``, ``bodies`` (hex),
``out``; optional ``max_connections`` (default 256), ``timeout`` (default 10 s), and
``closed: N`` for closed loop instead: N requests one after the other on one
connection (the service's own latency, no queueing).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httptools


class _Conn(asyncio.Protocol):
    """One keep-alive connection carrying one request at a time."""

    def __init__(self, pool: _Pool) -> None:
        self.pool = pool
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.waiter: asyncio.Future[tuple[int, str]] | None = None
        self.timing = ""
        self.busy = False

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._finish(exc)

    def connection_lost(self, exc: Exception | None) -> None:
        self.pool.discard(self)
        self._finish(exc or ConnectionError("connection closed"))

    # httptools callbacks
    def on_header(self, name: bytes, value: bytes) -> None:
        if name.lower() == b"server-timing":
            self.timing = value.decode()

    def on_message_complete(self) -> None:
        status = self.parser.get_status_code()
        keep = self.parser.should_keep_alive()
        self._finish(None, status)
        if keep:
            self.pool.release(self)
        elif self.transport is not None:
            self.transport.close()

    def _finish(self, exc: Exception | None, status: int = 0) -> None:
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            if exc is None:
                waiter.set_result((status, self.timing))
            else:
                waiter.set_exception(exc)

    def send(self, request: bytes) -> asyncio.Future[tuple[int, str]]:
        self.timing = ""
        self.waiter = asyncio.get_running_loop().create_future()
        assert self.transport is not None
        self.transport.write(request)
        return self.waiter


class _Pool:
    """Idle keep-alive connections; a new one is opened when none is idle."""

    def __init__(self, host: str, port: int, limit: int) -> None:
        self.host, self.port = host, port
        self.idle: list[_Conn] = []
        self.open = 0
        self.slots = asyncio.Semaphore(limit)

    async def get(self) -> _Conn:
        await self.slots.acquire()
        if self.idle:
            conn = self.idle.pop()
        else:
            loop = asyncio.get_running_loop()
            try:
                _, conn = await loop.create_connection(lambda: _Conn(self), self.host, self.port)
            except BaseException:
                self.slots.release()
                raise
            self.open += 1
        conn.busy = True
        return conn

    def release(self, conn: _Conn) -> None:
        conn.busy = False
        self.idle.append(conn)
        self.slots.release()

    def discard(self, conn: _Conn) -> None:
        """A closed connection: forget it, and free its slot if it was in use."""
        if conn in self.idle:
            self.idle.remove(conn)
        elif conn.busy:
            conn.busy = False
            self.slots.release()


def _pool(spec: dict[str, Any], limit: int) -> _Pool:
    url = urlsplit(spec["url"])
    return _Pool(url.hostname or "127.0.0.1", url.port or 80, limit)


def _requests(spec: dict[str, Any]) -> list[bytes]:
    url = urlsplit(spec["url"])
    out = []
    for hexbody in spec["bodies"]:
        body = bytes.fromhex(hexbody)
        head = (
            f"POST {spec['path']} HTTP/1.1\r\nHost: {url.netloc}\r\n"
            f"Content-Type: {spec['content_type']}\r\nContent-Length: {len(body)}\r\n"
            "Connection: keep-alive\r\n\r\n"
        )
        out.append(head.encode() + body)
    return out


async def run_closed(spec: dict[str, Any]) -> dict[str, Any]:
    """``spec["closed"]`` requests one at a time on one keep-alive connection."""
    pool = _pool(spec, 1)
    reqs = _requests(spec)
    results: list[tuple[float, int, str, float]] = []
    t0 = time.perf_counter()
    for i in range(int(spec["closed"]) + 10):  # the first ten warm up
        start = time.perf_counter()
        conn = await pool.get()
        status, timing = await asyncio.wait_for(conn.send(reqs[i % len(reqs)]), 10)
        if i >= 10:
            results.append((time.perf_counter() - start, status, timing, start - t0))
    elapsed = time.perf_counter() - t0
    lag = {"p50": 0.0, "p99": 0.0}
    return {"results": results, "elapsed": elapsed, "sent": len(results), "connections": 1,
            "send_lag_ms": lag}  # fmt: skip


async def run(spec: dict[str, Any]) -> dict[str, Any]:
    """Send ``rate`` requests a second for ``duration`` seconds; return per-request results."""
    pool = _pool(spec, spec.get("max_connections", 256))
    timeout = float(spec.get("timeout", 10.0))
    reqs = _requests(spec)
    rate, n = float(spec["rate"]), int(spec["rate"] * spec["duration"])
    results: list[tuple[float, int, str, float]] = []
    lags: list[float] = []

    async def one(i: int, due: float, record: bool) -> None:
        status, timing = 0, ""
        try:
            conn = await pool.get()
            try:
                status, timing = await asyncio.wait_for(conn.send(reqs[i % len(reqs)]), timeout)
            except BaseException:
                if conn.transport is not None:
                    conn.transport.close()
                raise
        except (OSError, TimeoutError, httptools.HttpParserError) as exc:
            timing = type(exc).__name__
        if record:
            results.append((time.perf_counter() - due, status, timing, due - t0))

    # Warm-up outside the measurement (not recorded): connections and first-call costs.
    now = time.perf_counter()
    await asyncio.gather(*(one(i, now, False) for i in range(min(50, n))))
    tasks = []
    t0 = time.perf_counter()
    for i in range(n):
        due = t0 + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        lags.append(time.perf_counter() - due)
        tasks.append(asyncio.ensure_future(one(i, due, True)))
    elapsed = time.perf_counter() - t0
    await asyncio.gather(*tasks)
    lags.sort()
    return {
        "results": results,
        "elapsed": elapsed,
        "sent": n,
        "connections": pool.open,
        "send_lag_ms": {
            "p50": round(lags[len(lags) // 2] * 1000, 3) if lags else 0.0,
            "p99": round(lags[int(len(lags) * 0.99)] * 1000, 3) if lags else 0.0,
        },
    }


def main(spec_path: str) -> None:
    """Run the spec in ``spec_path`` and write the results to ``spec["out"]``."""
    spec = json.loads(Path(spec_path).read_text())
    job = run_closed(spec) if spec.get("closed") else run(spec)
    try:
        import uvloop
    except ImportError:  # plain asyncio works, with a higher cost per request
        out = asyncio.run(job)
    else:
        out = uvloop.run(job)
    Path(spec["out"]).write_text(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1])
