"""export.py as users run it: the files and metadata it writes, and how it refuses bad input."""
import json
import os
import shutil
import subprocess
import sys

import onnx
import pytest
import torch
from onnx import TensorProto

from test_export_support import EXPORT_DIR, GOLDEN, random_vit_state_dict

import export
import verify

SMALL = GOLDEN / "small"
SMALL_ARGS = ["--checkpoint", str(SMALL / "model.pth"), "--labels", str(SMALL / "labels.txt"),
              "--num-heads", "4", "--mean", "0.5,0.5,0.5", "--std", "0.5,0.5,0.5", "--crop-pct", "1.0",
              "--image-size", "112", "--interpolation", "bilinear", "--arch", "golden_small",
              "--global-pool", "token", "--layernorm-eps", "1e-6", "--act", "gelu"]


def dims(value_info):
    return [d.dim_param or d.dim_value for d in value_info.type.tensor_type.shape.dim]


def elem_type(value_info):
    return value_info.type.tensor_type.elem_type


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    folder = tmp_path_factory.mktemp("export")
    paths = {}
    for dtype in ("float32", "float64"):
        out = folder / f"small_{dtype}.onnx"
        assert export.main(SMALL_ARGS + ["--out", str(out), "--dtype", dtype]) == 0
        paths[dtype] = out
    return folder, paths


def test_writes_full_gradient_and_forward_graphs_and_nothing_else(exported):
    folder, _ = exported
    assert sorted(p.name for p in folder.iterdir()) == [
        f"small_{dtype}{graph}.onnx" for dtype in ("float32", "float64") for graph in (".forward", ".gradient", "")]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_metadata_round_trip(exported, dtype):
    _, paths = exported
    labels = (SMALL / "labels.txt").read_text().split()
    sha = __import__("hashlib").sha256((SMALL / "model.pth").read_bytes()).hexdigest()
    for path, graph in ((paths[dtype], "full"), (paths[dtype].with_suffix(".gradient.onnx"), "gradient"),
                        (paths[dtype].with_suffix(".forward.onnx"), "forward")):
        meta = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
        assert meta == {
            "dermxai.contract": "1", "labels": json.dumps(labels), "mean": "[0.5, 0.5, 0.5]",
            "std": "[0.5, 0.5, 0.5]", "image_size": "112", "patch_size": "16", "num_layers": "4",
            "num_heads": "4", "num_classes": "7", "interpolation": "bilinear", "crop_pct": "1.0",
            "architecture": "golden_small", "checkpoint_sha256": sha, "created_by": "dermxai-export 1.0",
            "dtype": dtype, "dermxai.graph": graph, "dermxai.reduced_heads": "false", "prefix_tokens": "1",
            "readout": "class",
            "dermxai.weights": "only", "dermxai.sources": meta["dermxai.sources"],
            "dermxai.precision": "mixed" if dtype == "float32" and graph == "full" else dtype,
            **({} if graph == "forward" else {"dermxai.target_ranks": "true"})}
        sources = json.loads(meta["dermxai.sources"])
        assert sources["num_heads"] == "flag --num-heads" and sources["image_size"].startswith("weights")
        assert json.loads(meta["labels"]) == labels


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_contract_inputs_and_outputs_with_named_dims(exported, dtype):
    _, paths = exported
    real = TensorProto.FLOAT if dtype == "float32" else TensorProto.DOUBLE
    model = onnx.load(str(paths[dtype]))
    onnx.checker.check_model(model)
    inputs = {v.name: (elem_type(v), dims(v)) for v in model.graph.input}
    outputs = {v.name: (elem_type(v), dims(v)) for v in model.graph.output}
    rows = (TensorProto.INT64, ["targets"])
    assert inputs == {"pixel_values": (real, ["batch", 3, 112, 112]), "target_class": rows, "target_image": rows}
    images, per_row = [4, "batch", 4, 50, 50], [4, "targets", 4, 50, 50]
    assert outputs == {"logits": (real, ["batch", 7]), "target": rows,
                       "attn": (real, images), "attn_grad": (real, per_row), "attn_rel": (real, per_row)}
    gradient = onnx.load(str(paths[dtype].with_suffix(".gradient.onnx")))
    assert {v.name: (elem_type(v), dims(v)) for v in gradient.graph.input} == inputs
    assert {v.name: (elem_type(v), dims(v)) for v in gradient.graph.output} == {
        name: value for name, value in outputs.items() if name != "attn_rel"}
    forward = onnx.load(str(paths[dtype].with_suffix(".forward.onnx")))
    assert [v.name for v in forward.graph.input] == ["pixel_values"]
    assert {v.name: dims(v) for v in forward.graph.output} == {"logits": ["batch", 7], "attn": images}


def test_float64_graph_avoids_ops_onnx_runtime_cpu_lacks_in_float64(exported):
    _, paths = exported
    ops = {n.op_type for n in onnx.load(str(paths["float64"])).graph.node}
    assert not ops & {"Conv", "Erf", "LayerNormalization", "Gelu"}


def test_weights_are_stored_once(exported):
    _, paths = exported
    weights = sum(v.numel() for v in torch.load(SMALL / "model.pth").values())
    model = onnx.load(str(paths["float32"]))
    stored = sum(int(torch.tensor(list(t.dims)).prod()) for t in model.graph.initializer)
    assert weights <= stored < 1.02 * weights


def test_precision_float32_opts_out_of_the_float64_forward(exported, tmp_path):
    """Default (mixed): the full float32 graph casts weights and pixels up for its forward pass, the
    forward-only graph stays float32; --precision float32 writes a full graph without float64."""
    _, paths = exported

    def has_double(path):
        casts = [n for n in onnx.load(str(path)).graph.node if n.op_type == "Cast"]
        return any(a.name == "to" and a.i == TensorProto.DOUBLE for n in casts for a in n.attribute)

    assert has_double(paths["float32"])
    assert not has_double(paths["float32"].with_suffix(".forward.onnx"))
    out = tmp_path / "plain.onnx"
    assert export.main(SMALL_ARGS + ["--out", str(out), "--precision", "float32", "--no-forward-graph"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plain.gradient.onnx", "plain.onnx"]
    assert not has_double(out) and not has_double(out.with_suffix(".gradient.onnx"))
    meta = {p.key: p.value for p in onnx.load(str(out)).metadata_props}
    assert (meta["dtype"], meta["dermxai.precision"]) == ("float32", "float32")


def test_verify_passes_and_reports_every_output(tmp_path, capsys):
    assert export.main(SMALL_ARGS + ["--out", str(tmp_path / "m.onnx"), "--verify", "--graphs", "full"]) == 0
    printed = capsys.readouterr().out
    for name in ("logits", "attn", "attn_grad", "attn_rel"):
        assert f"graph ops, float32 mixed     {name}" in printed
        assert f"graph ops, float64           {name}" in printed
    assert "max abs" in printed and "max rel" in printed
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.onnx"]


def test_failed_verification_exits_nonzero_and_leaves_no_file(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(verify, "FLOAT64_TOLERANCE", 0.0)
    assert export.main(SMALL_ARGS + ["--out", str(tmp_path / "m.onnx"), "--verify"]) != 0
    assert "Verification failed" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- bad input

def save(tmp_path, obj, name="ckpt.pth"):
    path = tmp_path / name
    torch.save(obj, path)
    return str(path)


def broken(kind):
    sd = random_vit_state_dict()
    if kind == "missing_key":
        del sd["blocks.1.mlp.fc2.bias"]
    elif kind == "extra_key":
        sd["blocks.0.attn.extra_scale"] = torch.zeros(3)
    elif kind == "wrong_shape":
        sd["blocks.1.mlp.fc1.weight"] = torch.zeros(7, 64)
    elif kind == "attention_pool":
        sd["attn_pool.latent"] = torch.zeros(1, 1, 64)
    elif kind == "parallel_blocks":
        sd["blocks.0.attns.0.qkv.weight"] = torch.zeros(192, 64)
    elif kind == "patch_norm":
        sd["patch_embed.norm.weight"] = torch.ones(64)
    elif kind == "swiglu":
        sd["blocks.0.mlp.fc1_g.weight"] = torch.ones(256, 64)
    elif kind == "not_vit":
        sd = {"conv1.weight": torch.zeros(8, 3, 3, 3), "fc.weight": torch.zeros(10, 8)}
    elif kind == "not_tensors":
        sd = [torch.zeros(2), torch.zeros(3)]
    return sd


BAD_CHECKPOINTS = ["missing_key", "extra_key", "wrong_shape", "attention_pool", "parallel_blocks", "patch_norm",
                   "swiglu", "not_vit", "not_tensors"]


def assert_refused(code, err, out_dir, expected_words):
    assert code != 0
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].rstrip().endswith("."), lines[0]
    for word in expected_words:
        assert word.lower() in lines[0].lower(), lines[0]
    assert not [p for p in out_dir.iterdir() if p.suffix in (".onnx", ".tmp") or ".onnx" in p.name]


EXPECTED_WORDS = {"missing_key": ["missing", "blocks.1.mlp.fc2.bias"], "extra_key": ["unexpected"],
                  "wrong_shape": ["shape"], "attention_pool": ["unsupported", "attention pooling", "nearest"],
                  "parallel_blocks": ["unsupported", "parallel"], "patch_norm": ["unsupported", "patch embedding"],
                  "swiglu": ["unsupported", "SwiGLU"], "not_vit": ["not a timm"],
                  "not_tensors": ["not a state dict"]}


@pytest.mark.parametrize("kind", BAD_CHECKPOINTS)
def test_bad_checkpoints_are_refused_in_one_sentence(tmp_path, capsys, kind):
    ckpt = save(tmp_path, broken(kind))
    out = tmp_path / "out"
    out.mkdir()
    code = export.main(["--checkpoint", ckpt, "--out", str(out / "m.onnx"), "--num-heads", "2",
                        "--arch", "vit_small_patch16_224"])
    assert_refused(code, capsys.readouterr().err, out, EXPECTED_WORDS[kind])


def test_unreadable_and_missing_files_are_refused(tmp_path, capsys):
    garbage = tmp_path / "garbage.pth"
    garbage.write_bytes(b"\x00not a torch file" * 10)
    for path, words in ((garbage, ["cannot read"]), (tmp_path / "absent.pth", ["does not exist"])):
        code = export.main(["--checkpoint", str(path), "--out", str(tmp_path / "m.onnx")])
        assert_refused(code, capsys.readouterr().err, tmp_path, words)


def test_label_count_mismatch_and_bad_heads_are_refused(tmp_path, capsys):
    ckpt = save(tmp_path, random_vit_state_dict(classes=5))
    labels = tmp_path / "labels.txt"
    labels.write_text("a\nb\nc\n")
    facts = ["--arch", "vit_small_patch16_224", "--num-heads", "2"]
    code = export.main(["--checkpoint", ckpt, "--out", str(tmp_path / "m.onnx"), "--labels", str(labels)] + facts)
    assert_refused(code, capsys.readouterr().err, tmp_path, ["3 labels", "5 classes"])
    code = export.main(["--checkpoint", ckpt, "--out", str(tmp_path / "m.onnx"), "--arch", "vit_small_patch16_224",
                        "--num-heads", "5"])
    assert_refused(code, capsys.readouterr().err, tmp_path, ["does not divide", "64"])
    code = export.main(["--checkpoint", ckpt, "--out", str(tmp_path / "m.onnx"), "--image-size", "64"] + facts)
    assert_refused(code, capsys.readouterr().err, tmp_path, ["--image-size"])


def test_command_line_process_exit_code_and_stderr(tmp_path):
    ckpt = save(tmp_path, broken("attention_pool"))
    result = subprocess.run([sys.executable, str(EXPORT_DIR / "export.py"), "--checkpoint", ckpt,
                             "--out", str(tmp_path / "m.onnx")], capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0 and "attention pooling" in result.stderr
    assert not any(".onnx" in name for name in os.listdir(tmp_path))


def test_graphs_option_picks_the_files_and_full_is_required(tmp_path, capsys):
    assert export.main(SMALL_ARGS + ["--out", str(tmp_path / "m.onnx"), "--graphs", "full,forward"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.forward.onnx", "m.onnx"]
    refused = tmp_path / "refused"
    refused.mkdir()
    code = export.main(SMALL_ARGS + ["--out", str(refused / "m.onnx"), "--graphs", "gradient,forward"])
    assert_refused(code, capsys.readouterr().err, refused, ["--graphs", "full"])


def test_gradient_graph_has_no_lrp_pass(exported):
    """The LRP pass is most of the full graph's nodes; the gradient graph must not trace it."""
    _, paths = exported
    full = len(onnx.load(str(paths["float64"])).graph.node)
    gradient = len(onnx.load(str(paths["float64"].with_suffix(".gradient.onnx"))).graph.node)
    forward = len(onnx.load(str(paths["float64"].with_suffix(".forward.onnx"))).graph.node)
    assert forward < gradient < 0.6 * full


def test_reduce_heads_writes_the_reduced_outputs_and_verifies(tmp_path, capsys):
    out = tmp_path / "r.onnx"
    assert export.main(SMALL_ARGS + ["--out", str(out), "--reduce-heads", "--verify", "--dtype", "float64"]) == 0
    printed = capsys.readouterr().out
    expected = {"": {"logits": ["batch", 7], "target": ["targets"], "attn_mean": [4, "batch", 50, 50],
                     "grad_attn_map": [4, "targets", 50, 50], "grad_rel_map": [4, "targets", 50, 50],
                     "rel_map": [4, "targets", 50, 50], "attn_last": [1, "batch", 4, 50, 50],
                     "attn_grad_last": [1, "targets", 4, 50, 50]}}
    expected[".gradient"] = {k: v for k, v in expected[""].items() if k not in ("grad_rel_map", "rel_map")}
    expected[".forward"] = {"logits": ["batch", 7], "attn_mean": [4, "batch", 50, 50]}
    for graph, outputs in expected.items():
        model = onnx.load(str(out.with_suffix(f"{graph}.onnx")))
        assert {v.name: dims(v) for v in model.graph.output} == outputs
        assert {p.key: p.value for p in model.metadata_props}["dermxai.reduced_heads"] == "true"
        if shutil.which("dotnet"):
            for name in outputs:
                if name != "target":
                    assert f"ONNX Runtime, {(graph[1:] or 'full')} file".ljust(28) + f" {name}" in printed, name


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_state_from_onnx_rebuilds_the_checkpoints_weights(exported, dtype):
    from state_from_onnx import export_flags, state_dict_from_onnx
    _, paths = exported
    rebuilt, metadata = state_dict_from_onnx(str(paths[dtype]))
    original = torch.load(SMALL / "model.pth")
    assert sorted(rebuilt) == sorted(original)
    for key, value in original.items():
        assert torch.equal(rebuilt[key], value.to(rebuilt[key].dtype)), key
    assert export_flags(metadata)[:2] == ["--num-heads", "4"]
