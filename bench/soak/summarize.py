#!/usr/bin/env python3
"""Summarises a soak folder written by run.sh: requests and statuses from bench.json (ghz-shaped),
resident memory from rss.csv, the graceful-shutdown load from shutdown.json.

usage: summarize.py OUT_DIR [server_exit_code]
"""
import csv
import json
import sys


def mib(row):
    return int(row["rss_kb"]) / 1024


def slope_mib_per_minute(rows):
    """Least-squares slope of RSS over time: ~0 when memory is flat."""
    xs = [int(r["seconds"]) / 60 for r in rows]
    ys = [mib(r) for r in rows]
    n, mx, my = len(xs), sum(xs) / len(xs), sum(ys) / len(ys)
    var = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / var if var else 0.0


def main(out, server_exit="?"):
    rows = list(csv.DictReader(open(f"{out}/rss.csv")))
    end = next(r for r in rows if r["phase"] == "end")
    load = [r for r in rows if r["phase"] == "load" and int(r["seconds"]) <= int(end["seconds"])] + [end]
    warm = next((r for r in load if int(r["seconds"]) >= 10), load[0])
    peak = max(load, key=mib)
    settled = [r for r in load if int(r["seconds"]) >= 60]
    soak = json.load(open(f"{out}/bench.json"))
    options = soak.get("options", {})
    statuses = soak["statusCodeDistribution"]
    print(f"soak: {options.get('call', '?')}, concurrency {options.get('concurrency', '?')}, {soak['total'] / 1e9:.0f} s measured")
    print(f"requests: {soak['count']} ({soak['rps']:.1f}/s); latency over all calls (refusals included): "
          f"avg {soak['average'] / 1e6:.1f} ms, slowest {soak['slowest'] / 1e6:.1f} ms")
    print("p50/p90/p99 ms: " + ", ".join(f"{d['latency'] / 1e6:.1f}" for d in soak["latencyDistribution"] if d["percentage"] in (50, 90, 99)))
    print(f"by status: {statuses}")
    print(f"errors other than RESOURCE_EXHAUSTED: {sum(v for k, v in statuses.items() if k not in ('OK', 'ResourceExhausted'))}")
    print(f"RSS MiB: ready {mib(rows[0]):.0f}, start (t={warm['seconds']} s, after the warm-up) {mib(warm):.0f}, "
          f"peak {mib(peak):.0f} (t={peak['seconds']} s), end {mib(end):.0f} (t={end['seconds']} s)")
    if len(settled) > 2:
        print(f"RSS from t=60 s to the end: min {min(map(mib, settled)):.0f}, max {max(map(mib, settled)):.0f}, "
              f"trend {slope_mib_per_minute(settled):+.2f} MiB/min over {len(settled)} samples")
    try:
        shutdown = json.load(open(f"{out}/shutdown.json"))
        print(f"shutdown under load: server exit code {server_exit}; calls by status {shutdown['statusCodeDistribution']}")
    except FileNotFoundError:
        pass


if __name__ == "__main__":
    main(*sys.argv[1:])
