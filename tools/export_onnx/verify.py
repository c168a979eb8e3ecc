"""--verify: the exported computation against torch autograd (attn_grad) and against the
independent per-image implementation of the reference rules (attn_rel), on random inputs."""
import numpy as np
import torch

from graph_kinds import head_reductions, output_shapes
from graph_runner import run_file
from reference_impl import ReferenceVit
from vit_graph import VitGraph

OUTPUTS = ("logits", "attn", "attn_grad", "attn_rel")
# Float64 must reproduce the reference to rounding. Float32: logits/attn/attn_grad are well
# conditioned; attn_rel inherits the reference's own float32 ill-conditioning (golden README), so it
# is held to 10x the reference's own float32 error, at least 1e-3 and never more than 1e-2, with the
# Spearman rank correlation against float64 printed beside it.
FLOAT64_TOLERANCE = 1e-8
FLOAT32_TOLERANCE = {"logits": 1e-3, "attn": 1e-3, "attn_grad": 1e-3}
FLOAT32_REL_FLOOR = 1e-3
FLOAT32_REL_CEILING = 1e-2
# A head-reduced output (--reduce-heads) is held to the tolerance of the tensor it reduces.
REDUCED_FROM = {"attn_mean": "attn", "attn_last": "attn", "grad_attn_map": "attn_grad",
                "attn_grad_last": "attn_grad", "grad_rel_map": "attn_rel", "rel_map": "attn_rel"}


def random_case(config, batch, seed):
    generator = torch.Generator().manual_seed(seed)
    pixels = torch.randn(batch, 3, config.image_size, config.image_size, generator=generator,
                         dtype=torch.float64)
    explicit = [(3 * i + 1) % config.num_classes for i in range(batch)]
    targets = torch.tensor([-1 if i % 2 == 0 else explicit[i] for i in range(batch)], dtype=torch.int64)
    targets[-1] = config.num_classes - 1
    return pixels, targets


def reference_outputs(reference, pixels, targets):
    """Per-image reference results stacked in the contract's layout ([B,C], [L,B,H,N,N])."""
    runs = [reference.explain(pixels[i], int(targets[i])) for i in range(len(targets))]
    return {
        "logits": torch.stack([r["logits"] for r in runs]).numpy(),
        "target": np.array([r["target"] for r in runs]),
        "attn": torch.stack([r["attn"] for r in runs], dim=1).numpy(),
        "attn_grad": torch.stack([r["attn_grad"] for r in runs], dim=1).numpy(),
        "attn_rel": torch.stack([r["attn_rel"] for r in runs], dim=1).numpy(),
    }


def as_dict(outputs):
    logits, target, attn, attn_grad, attn_rel = [np.asarray(t.detach().numpy() if torch.is_tensor(t) else t)
                                                 for t in outputs]
    return {"logits": logits, "target": target, "attn": attn, "attn_grad": attn_grad, "attn_rel": attn_rel}


def file_expectation(kind, expected, reduced, config):
    """The outputs a graph file of `kind` should give, from the contract v1 tensors (one row per image)."""
    names = output_shapes(kind, config)
    kept = {name: torch.from_numpy(np.asarray(expected[name])) for name in names}
    if reduced:
        kept = head_reductions(kind, kept, torch.arange(len(expected["logits"])))
    return {name: value.numpy() for name, value in kept.items()}


def errors(got, expected, names=OUTPUTS):
    """(max abs error, max abs error / max |expected|) per output."""
    result = {}
    for name in names:
        diff = np.abs(got[name].astype(np.float64) - expected[name]).max()
        result[name] = (float(diff), float(diff / max(np.abs(expected[name]).max(), 1e-300)))
    return result


def spearman(a, b):
    """Rank correlation of two arrays (average ranks for ties)."""
    def ranks(x):
        order = np.argsort(x, kind="mergesort")
        r = np.empty(len(x))
        r[order] = np.arange(len(x))
        _, inverse, counts = np.unique(x, return_inverse=True, return_counts=True)
        sums = np.bincount(inverse, weights=r)
        return sums[inverse] / counts[inverse]
    return float(np.corrcoef(ranks(np.ravel(a)), ranks(np.ravel(b)))[0, 1])


class Report:
    def __init__(self, out):
        self.out = out
        self.failed = False
        self.rank = {}

    def line(self, label, errs, tolerances, targets_ok):
        for name, (abs_err, rel_err) in errs.items():
            tolerance = tolerances[REDUCED_FROM.get(name, name)]
            ok = rel_err <= tolerance
            self.failed |= not ok
            extra = f"  Spearman {self.rank[label]:.4f}" if name == "attn_rel" and label in self.rank else ""
            self.out(f"  {label:<28} {name:<10} max abs {abs_err:.3e}  max rel {rel_err:.3e}  "
                     f"(tol {tolerance:.1e}) {'ok' if ok else 'FAIL'}{extra}")
        self.failed |= not targets_ok
        if not targets_ok:
            self.out(f"  {label:<28} target     FAIL (resolved targets differ)")


def verify(config, state_dict, dtype, sums_dtype, forward_dtype=None, graph_files=(), reduced=False, batch=4,
           seed=0, out=print):
    """Returns True when every compared output is within tolerance. graph_files: (kind, path) of the
    written graphs, each run through ONNX Runtime and compared with the reference."""
    pixels, targets = random_case(config, batch, seed)
    out(f"verify: batch {batch}, targets {targets.tolist()}, random N(0,1) pixels, seed {seed}")
    reference = ReferenceVit(config, state_dict)
    expected = reference_outputs(reference, pixels, targets)
    report = Report(out)
    exact = as_dict(VitGraph(config, state_dict, torch.float64).explain(pixels, targets))
    report.line("graph ops, float64", errors(exact, expected), dict.fromkeys(OUTPUTS, FLOAT64_TOLERANCE),
                np.array_equal(exact["target"], expected["target"]))
    tolerances = dict.fromkeys(OUTPUTS, FLOAT64_TOLERANCE)
    if dtype == torch.float32:
        ref32 = reference_outputs(ReferenceVit(config, state_dict, torch.float32), pixels, targets)
        own = errors(ref32, expected)["attn_rel"][1]
        out(f"  reference rules in float32: attn_rel max rel error {own:.3e} (its own conditioning)")
        tolerances = dict(FLOAT32_TOLERANCE, attn_rel=min(max(10 * own, FLOAT32_REL_FLOOR), FLOAT32_REL_CEILING))
    with torch.no_grad():
        graph = VitGraph(config, state_dict, dtype, sums_dtype, forward_dtype)
        got = as_dict(graph.explain(pixels.to(dtype), targets))
    label = f"graph ops, {str(dtype).replace('torch.', '')}"
    if forward_dtype not in (None, dtype):
        label += " mixed"
    report.rank[label] = spearman(got["attn_rel"], expected["attn_rel"])
    report.line(label, errors(got, expected), tolerances, np.array_equal(got["target"], expected["target"]))
    for kind, path in graph_files:
        check_file(kind, path, config, state_dict, (pixels, targets, dtype), expected, reduced, tolerances, report, out)
    return not report.failed


def check_file(kind, path, config, state_dict, case, expected, reduced, tolerances, report, out):
    pixels, targets, dtype = case
    ort, how = run_file(path, pixels.to(dtype).numpy(), None if kind == "forward" else targets.numpy(), out)
    if ort is None:
        out(f"  the {kind} .onnx file was NOT run through ONNX Runtime: {how}")
        return
    out(f"  the {kind} .onnx file through {how}")
    ort = {name: np.asarray(value) for name, value in ort.items()}
    want = file_expectation(kind, expected, reduced, config)
    label = f"ONNX Runtime, {kind} file"
    if "attn_rel" in ort:
        report.rank[label] = spearman(ort["attn_rel"], want["attn_rel"])
    names = [name for name in want if name != "target"]
    report.line(label, errors(ort, want, names), tolerances,
                "target" not in want or np.array_equal(ort["target"], want["target"]))
    if kind == "full":
        compare_with_timm(config, state_dict, pixels, ort["logits"], report, out)


def compare_with_timm(config, state_dict, pixels, logits, report, out):
    """The file's logits against the user's own timm, where timm is importable."""
    try:
        from timm_check import build_timm_model
        model = build_timm_model(config)
    except ImportError:
        out("  timm is not importable here: the file's logits were not compared with timm")
        return
    model.load_state_dict(state_dict)
    with torch.no_grad():
        theirs = model.to(torch.float64).eval()(pixels).numpy()
    rel = float(np.abs(logits - theirs).max() / np.abs(theirs).max())
    limit = FLOAT64_TOLERANCE if logits.dtype == np.float64 else FLOAT32_TOLERANCE["logits"]
    report.failed |= rel > limit
    out(f"  {'timm ' + __import__('timm').__version__ + ', float64':<28} logits     max rel {rel:.3e}  "
        f"(tol {limit:.1e}) {'ok' if rel <= limit else 'FAIL'}")
