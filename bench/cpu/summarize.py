"""Collects bench/cpu/run.sh's raw files into results.md and results.json (see bench/cpu/README.md)."""
import argparse
import glob
import json
import os

LABELS = {
    "transformer_attribution": "transformer_attribution",
    "generic_attention": "generic_attention",
    "attention_gradcam": "attention_gradcam",
    "raw_attention": "raw_attention",
    "attention_rollout": "attention_rollout",
    "classify": "Classify",
    "transformer_attribution_top3": "transformer_attribution, top-3 targets in one call",
}


def dermxai_calls(raw, precision, method):
    """One method's `dermxai bench --warmup-requests 1 --requests N` summary (ghz-shaped; the warm-up
    call is not in it): the p50 of its successful calls (ghz's nearest rank) and the errors seen."""
    path = os.path.join(raw, f"dermxai-{precision}-{method}.json")
    if not os.path.exists(path):
        return {"p50_s": None, "calls": 0, "errors": ["no result"]}
    with open(path, encoding="utf-8") as handle:
        summary = json.load(handle)
    p50 = next((l["latency"] for l in summary.get("latencyDistribution") or [] if l["percentage"] == 50), None)
    errors = [error for error, count in (summary.get("errorDistribution") or {}).items() for _ in range(count)]
    if p50 is None and not errors:
        errors = ["no call"]
    ok = p50 is not None
    return {
        "p50_s": p50 / 1e9 if ok else None,
        "calls": summary.get("count", 0),
        "fastest_s": summary["fastest"] / 1e9 if ok else None,
        "slowest_s": summary["slowest"] / 1e9 if ok else None,
        "errors": errors,
    }


def graph_files(models, precision):
    folder = os.path.join(models, precision)
    files = sorted(glob.glob(os.path.join(folder, "vitb41*")))
    export = os.path.join(folder, "export_seconds.txt")
    return {
        "files": {os.path.basename(f): os.path.getsize(f) for f in files},
        "export_s": float(open(export, encoding="utf-8").read()) if os.path.exists(export) else None,
    }


def read_text(path):
    return open(path, encoding="utf-8").read().strip() if os.path.exists(path) else ""


def cell(dermxai, reference):
    if dermxai["p50_s"] is None and set(dermxai["errors"]) == {"no result"}:
        return "not run"
    if dermxai["p50_s"] is None:
        return "failed: " + "; ".join(sorted(set(dermxai["errors"])))[:80] if dermxai["errors"] else "–"
    text = f"{dermxai['p50_s']:.2f} s"
    if reference is not None:
        text += f" ({reference / dermxai['p50_s']:.2f}×)"
    return text


def markdown(report):
    precisions, lines = report["precisions"], []
    reference = report["reference"]
    lines.append(f"# CPU side by side: reference vs Dermxai ({report['threads']} threads each, "
                 f"p50 of {report['runs']} run(s) after 1 warm-up)")
    lines.append("")
    lines.append(report["machine"].replace("\n", "  \n"))
    lines.append("")
    if reference is None:
        lines.append("**No reference run** (`--no-reference`, or no checkout of hila-chefer/Transformer-Explainability "
                     "was given or could be cloned): Dermxai's numbers alone.")
    else:
        lines.append(f"Reference: torch {reference['torch']} eager, float32; "
                     + "; ".join(report["reference_sources"].splitlines()))
        if not reference["generic_rule"]:
            lines.append("  \nNo Transformer-MM-Explainability checkout: generic_attention has no reference number.")
    lines.append("")
    lines.append("| method | reference | " + " | ".join(f"Dermxai {p}" for p in precisions) + " |")
    lines.append("|---|---|" + "---|" * len(precisions))
    for method, row in report["methods"].items():
        ref = row["reference"]["p50_s"] if row["reference"] else None
        cells = [cell(row["dermxai"][p], ref) for p in precisions]
        lines.append(f"| {LABELS.get(method, method)} | {f'{ref:.2f} s' if ref is not None else '–'} | "
                     + " | ".join(cells) + " |")
    lines.append("")
    lines.append("(×: reference p50 / Dermxai p50; above 1 Dermxai is faster. Dermxai's time is one gRPC call "
                 "of `dermxai bench --concurrency 1 --warmup-requests 1 --requests N`, one client process per "
                 "method, and includes JPEG decoding and preprocessing; the reference's is the model work on a "
                 "ready tensor.)")
    if reference is not None:
        lines.append("")
        lines.append("Reference calls: " + "; ".join(
            f"{m}: `{r['reference']['call']}`" for m, r in report["methods"].items() if r["reference"]))
    lines.append("")
    lines.append("| precision | graph file | MB | export s |")
    lines.append("|---|---|---|---|")
    for precision, graphs in report["graphs"].items():
        for name, size in graphs["files"].items():
            export = f"{graphs['export_s']:.0f}" if graphs["export_s"] is not None else "–"
            lines.append(f"| {precision} | {name} | {size / 1e6:.1f} | {export} |")
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", required=True)
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--runs", type=int, required=True)
    parser.add_argument("--precisions", required=True)
    parser.add_argument("--methods", required=True)
    args = parser.parse_args()
    raw = os.path.join(args.out, "raw")
    precisions, methods = args.precisions.split(), args.methods.split()

    reference_path = os.path.join(raw, "reference.json")
    reference = json.load(open(reference_path, encoding="utf-8")) if os.path.exists(reference_path) else None
    report = {
        "threads": args.threads, "runs": args.runs, "precisions": precisions,
        "machine": read_text(os.path.join(raw, "machine.txt")),
        "reference_sources": read_text(os.path.join(raw, "reference_sources.txt")),
        "reference": None if reference is None else {k: v for k, v in reference.items() if k != "methods"},
        "methods": {m: {"reference": (reference or {}).get("methods", {}).get(m),
                        "dermxai": {p: dermxai_calls(raw, p, m) for p in precisions}}
                    for m in methods},
        "graphs": {p: graph_files(os.path.join(args.out, "models"), p) for p in precisions},
    }
    with open(os.path.join(args.out, "results.json"), "w", encoding="utf-8") as handle:
        json.dump(report, handle, indent=2)
    with open(os.path.join(args.out, "results.md"), "w", encoding="utf-8") as handle:
        handle.write(markdown(report))


if __name__ == "__main__":
    main()
