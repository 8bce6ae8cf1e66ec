"""asyncpg side of the pgfx benchmark harness (bench/src/main.ts runs this file).

Reads the run request (JSON) from PGFX_BENCH_REQUEST, runs one workload, prints one line
"@@pgfx-bench-result {json}" (the protocol of bench/src/protocol.ts) and exits.

asyncpg is used as its docs show: a pool of 10 connections shared by the callers (W1, W2; one
acquire and release per query, as the JavaScript pools), prepared statements cached per connection, copy_records_to_table (binary COPY) for W4, a cursor in a transaction for W6,
executemany for W8. uvloop is used when installed (asyncpg's recommended event loop); the loop in
use is reported in the result.
"""

import asyncio
import datetime
import json
import os
import resource
import sys
import time

MARKER = "@@pgfx-bench-result "


def emit(result):
    sys.stdout.write("\n" + MARKER + json.dumps(result) + "\n")
    sys.stdout.flush()


try:
    import asyncpg
except Exception as error:  # noqa: BLE001 - any import failure means "not available here"
    emit({"status": "unavailable", "reason": "cannot import asyncpg in %s: %s" % (sys.executable, error)})
    sys.exit(0)

try:
    import uvloop

    LOOP = "uvloop"
except Exception:  # noqa: BLE001
    uvloop = None
    LOOP = "asyncio"

REQ = json.loads(os.environ["PGFX_BENCH_REQUEST"])
SPEC = REQ["spec"]
EXTRA = {"asyncpg": asyncpg.__version__, "loop": LOOP, "python": sys.version.split()[0]}


def connect(conn=None):
    c = conn or REQ["conn"]
    return asyncpg.connect(
        host=c["host"], port=c["port"], user=c["user"], password=c["password"], database=c["database"]
    )


def columns(sql):
    head = sql.strip()[len("SELECT "):]
    head = head[: head.upper().index(" FROM ")]
    return [part.strip().split()[-1] for part in head.split(",")]


class Tally:
    """Touches every cell (by position, as asyncpg Records iterate) and keeps the checks."""

    def __init__(self, cols):
        self.cols = cols
        self.a = cols.index("a") if "a" in cols else -1
        self.g = cols.index("g") if "g" in cols else -1
        self.rows = 0
        self.cells = 0
        self.sum_a = 0
        self.trues = 0

    def all(self, records):
        a, g = self.a, self.g
        cells = 0
        for r in records:
            for v in r:
                if v is not None:
                    cells += 1
            if a >= 0:
                self.sum_a += r[a]
            if g >= 0 and r[g] is True:
                self.trues += 1
        self.rows += len(records)
        self.cells += cells

    def check(self):
        return {"rows": self.rows, "cells": self.cells, "sumA": self.sum_a, "trues": self.trues}


def pick_id(caller, i, id_range):
    return ((i * 7919 + caller * 104729) % id_range) + 1


async def run_callers(callers, call):
    """Each caller loops `call(caller, i)`; count completions inside the measured window."""
    state = {"stop": False, "measuring": False, "count": 0}
    loop = asyncio.get_running_loop()
    done = loop.create_future()

    def close(start, cpu):
        state["stop"] = True
        state["measuring"] = False
        used = resource.getrusage(resource.RUSAGE_SELF)
        if state["count"] > 0:
            WINDOW_CPU["cpuUsPerOp"] = (
                (used.ru_utime - cpu.ru_utime + used.ru_stime - cpu.ru_stime) * 1e6 / state["count"]
            )
        done.set_result(state["count"] / (time.perf_counter() - start))

    def open_window():
        state["measuring"] = True
        state["count"] = 0
        start = time.perf_counter()
        loop.call_later(SPEC["durationMs"] / 1000, close, start, resource.getrusage(resource.RUSAGE_SELF))

    loop.call_later(SPEC["warmupMs"] / 1000, open_window)

    async def caller_loop(caller):
        i = 0
        while not state["stop"]:
            await call(caller, i)
            if state["measuring"]:
                state["count"] += 1
            i += 1

    await asyncio.gather(*(caller_loop(c) for c in range(callers)))
    return await done


def ingest_rows(count):
    base = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
    return [
        (i, "name-%d" % i, base + datetime.timedelta(seconds=i), i * 0.25) for i in range(1, count + 1)
    ]


async def ingest_check(conn):
    row = await conn.fetchrow("SELECT count(*)::int8 AS rows, sum(a)::int8 AS suma FROM %s" % SPEC["table"])
    return {"rows": row["rows"], "sumA": row["suma"]}


# Client CPU (user + system) per completion inside the last measured window, when there was one.
WINDOW_CPU = {}


def ok(value, check, extra=None):
    return {"status": "ok", "value": value, "check": check, "extra": {**EXTRA, **WINDOW_CPU, **(extra or {})}}


async def pool(conn=None):
    """A pool of `connections` (all opened up front), as the JavaScript drivers' pools: one
    acquire and release per query."""
    c = conn or REQ["conn"]
    n = SPEC["connections"]
    return await asyncpg.create_pool(
        host=c["host"], port=c["port"], user=c["user"], password=c["password"], database=c["database"],
        min_size=n, max_size=n,
    )


async def w1(req):
    p = await pool()

    async def call(caller, i):
        id_ = pick_id(caller, i, SPEC["idRange"])
        rows = await p.fetch(SPEC["sql"], id_)
        if len(rows) != 1 or rows[0]["id"] != id_:
            raise RuntimeError("W1: wrong row for id %d" % id_)

    return ok(await run_callers(SPEC["callers"], call), {})


async def w2(req):
    p = await pool(REQ["catalogConn"])
    tally = Tally(columns(SPEC["sql"]))
    seen = {"rows": 0}

    async def call(caller, i):
        rows = await p.fetch(SPEC["sql"])
        tally.all(rows)
        seen["rows"] = len(rows)

    return ok(await run_callers(SPEC["callers"], call), {"rows": seen["rows"]})


async def w3(req):
    conn = await connect()
    cols = columns(SPEC["sql"])
    Tally(cols).all(await conn.fetch(SPEC["warmupSql"]))
    tally = None
    t0 = time.perf_counter()
    for _ in range(SPEC["repeats"]):
        tally = Tally(cols)
        tally.all(await conn.fetch(SPEC["sql"]))
    seconds = time.perf_counter() - t0
    return ok(SPEC["count"] * SPEC["repeats"] / seconds, tally.check())


async def w4(req):
    conn = await connect()
    table, cols = SPEC["table"], SPEC["columns"]
    await conn.execute("TRUNCATE %s" % table)
    await conn.copy_records_to_table(table, records=ingest_rows(SPEC["warmupCount"]), columns=cols)
    await conn.execute("TRUNCATE %s" % table)
    rows = ingest_rows(SPEC["count"])
    t0 = time.perf_counter()
    await conn.copy_records_to_table(table, records=rows, columns=cols)
    seconds = time.perf_counter() - t0
    return ok(SPEC["count"] / seconds, await ingest_check(conn), {"seconds": seconds})


async def w5(req):
    conn = await connect()
    sql = SPEC["sql"]
    for i in range(SPEC["warmupCount"]):
        await conn.fetchval(sql, i)
    samples = []
    for i in range(SPEC["count"]):
        t0 = time.perf_counter()
        value = await conn.fetchval(sql, i)
        samples.append((time.perf_counter() - t0) * 1e6)
        if value != i:
            raise RuntimeError("W5: got %r for %d" % (value, i))
    samples.sort()
    median = samples[len(samples) // 2] if len(samples) % 2 else (samples[len(samples) // 2 - 1] + samples[len(samples) // 2]) / 2
    p99 = samples[min(len(samples) - 1, int(0.99 * len(samples)))]
    return ok(median, {"queries": len(samples)}, {"p99Us": p99, "meanUs": sum(samples) / len(samples)})


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize()


async def w6(req):
    conn = await connect()
    cols = columns(SPEC["sql"])

    async def stream(sql, tally):
        async with conn.transaction():
            batch = []
            async for record in conn.cursor(sql, prefetch=SPEC["fetchSize"]):
                batch.append(record)
                if len(batch) == SPEC["fetchSize"]:
                    tally.all(batch)
                    batch = []
            tally.all(batch)

    await stream(SPEC["warmupSql"], Tally(cols))
    import gc

    gc.collect()
    baseline = rss_bytes()
    baseline_max = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    peak = {"rss": baseline}
    sampling = {"on": True}

    async def sampler():
        while sampling["on"]:
            peak["rss"] = max(peak["rss"], rss_bytes())
            await asyncio.sleep(0.01)

    task = asyncio.ensure_future(sampler())
    tally = Tally(cols)
    t0 = time.perf_counter()
    await stream(SPEC["sql"], tally)
    seconds = time.perf_counter() - t0
    sampling["on"] = False
    await task
    high = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    top = max(high, peak["rss"]) if high > baseline_max else peak["rss"]
    return ok(
        (top - baseline) / 1048576,
        {"rows": tally.rows, "sumA": tally.sum_a},
        {"rowsPerSec": tally.rows / seconds, "baselineMiB": baseline / 1048576},
    )


async def w7(req):
    async def once():
        conn = await connect()
        await conn.fetchval(SPEC["sql"])
        await conn.close()

    for _ in range(SPEC["warmupCount"]):
        await once()
    t0 = time.perf_counter()
    for _ in range(SPEC["count"]):
        await once()
    return ok(SPEC["count"] / (time.perf_counter() - t0), {"connects": SPEC["count"]})


async def w8(req):
    conn = await connect()

    async def many(count):
        rows = ingest_rows(count)
        t0 = time.perf_counter()
        async with conn.transaction():
            await conn.executemany(SPEC["sql"], rows)
        return time.perf_counter() - t0

    await conn.execute("TRUNCATE %s" % SPEC["table"])
    await many(SPEC["warmupCount"])
    await conn.execute("TRUNCATE %s" % SPEC["table"])
    seconds = await many(SPEC["count"])
    return ok(SPEC["count"] / seconds, await ingest_check(conn), {"seconds": seconds})


HANDLERS = {"W1": w1, "W2": w2, "W3": w3, "W4": w4, "W5": w5, "W6": w6, "W7": w7, "W8": w8}
GAPS = {"W1p": "asyncpg runs one operation at a time per connection (no pipelining of concurrent callers)"}


def main():
    workload = REQ["workload"]
    if workload in GAPS:
        emit({"status": "unsupported", "reason": GAPS[workload]})
        return
    handler = HANDLERS.get(workload)
    if handler is None:
        emit({"status": "unsupported", "reason": "no %s implementation" % workload})
        return
    try:
        if uvloop is not None:
            asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
        result = asyncio.run(handler(REQ))
    except Exception as error:  # noqa: BLE001 - reported to the harness
        result = {"status": "error", "reason": "%s: %s" % (type(error).__name__, error)}
    emit(result)


main()
os._exit(0)
