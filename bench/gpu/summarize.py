"""Collects bench/gpu/run.sh's outputs into results.json and results.md (one table)."""
import argparse
import glob
import json
import os
import re


def load(path):
    with open(path) as f:
        return json.load(f)


def key(d, *names):
    for n in names:
        if n in d:
            return d[n]
    return None


def percentile(summary, p):
    for item in key(summary, "latencyDistribution", "LatencyDistribution") or []:
        if int(key(item, "percentage", "Percentage")) == p:
            return key(item, "latency", "Latency") / 1e6
    return None


def map_errors(out, device):
    """Max |device - cpu| / max |cpu| per method over the parity images."""
    a, b = os.path.join(out, f"maps-{device}.json"), os.path.join(out, "maps-cpu.json")
    if device == "cpu" or not (os.path.exists(a) and os.path.exists(b)):
        return {}
    worst = {}
    for img_a, img_b in zip(key(load(a), "images", "Images"), key(load(b), "images", "Images")):
        for ea, eb in zip(key(img_a, "explanations", "Explanations") or [], key(img_b, "explanations", "Explanations") or []):
            ga = key(key(ea, "grid", "Grid"), "values", "Values")
            gb = key(key(eb, "grid", "Grid"), "values", "Values")
            scale = max(abs(v) for v in gb) or 1.0
            err = max(abs(x - y) for x, y in zip(ga, gb)) / scale
            m = key(ea, "method", "Method")
            worst[m] = max(worst.get(m, 0.0), err)
    return worst


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--device", required=True)
    ap.add_argument("--model", required=True)
    args = ap.parse_args()
    card = open(os.path.join(args.out, "card.txt")).read().strip()
    rows = []
    for path in sorted(glob.glob(os.path.join(args.out, "bench-*-c*.json"))):
        m = re.match(r"bench-(.+)-c(\d+)\.json", os.path.basename(path))
        s = load(path)
        errors = key(s, "errorDistribution", "ErrorDistribution") or {}
        rows.append({
            "method": m.group(1), "concurrency": int(m.group(2)),
            "images_per_s": round(key(s, "rps", "Rps"), 2), "count": key(s, "count", "Count"),
            "p50_ms": percentile(s, 50), "p99_ms": percentile(s, 99), "errors": sum(errors.values()),
        })
    rows.sort(key=lambda r: (r["method"], r["concurrency"]))
    result = {"card": card, "device": args.device, "model": args.model, "rows": rows,
              "map_error_vs_cpu": map_errors(args.out, args.device)}
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump(result, f, indent=1)
    lines = [f"Card: {card}; device {args.device}; model {args.model}", "",
             "| method | concurrency | images/s | p50 ms | p99 ms | errors |", "|---|---|---|---|---|---|"]
    fmt = lambda v: "–" if v is None else f"{v:.1f}"
    for r in rows:
        lines.append(f"| {r['method']} | {r['concurrency']} | {r['images_per_s']} | {fmt(r['p50_ms'])} | "
                     f"{fmt(r['p99_ms'])} | {r['errors']} |")
    if result["map_error_vs_cpu"]:
        lines += ["", "Map error vs the CPU EP (max abs / max |cpu|): " +
                  ", ".join(f"{k} {v:.2e}" for k, v in result["map_error_vs_cpu"].items())]
    with open(os.path.join(args.out, "results.md"), "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
