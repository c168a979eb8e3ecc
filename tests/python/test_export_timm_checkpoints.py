"""Checkpoint formats users have (safetensors, timm train.py with EMA and args, DDP / torch.compile /
Lightning prefixes, save_for_hf folders, whole pickled models) give the same model, say what they
did, and every refusal names the file, what was found and what to do."""
import json
import shutil
import struct

import numpy as np
import onnx
import pytest
import torch

from timm_golden import TIMM_GOLDEN, export_flags, load_family, rel

import export
from vit_graph import VitGraph

PLAIN = TIMM_GOLDEN / "vit_plain"
FACTS = ["--arch", "vit_small_patch16_224", "--num-heads", "2"]


def write_safetensors(path, tensors):
    names = {"float32": "F32", "float64": "F64", "float16": "F16"}
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        data = t.contiguous().numpy().tobytes()
        header[name] = {"dtype": names[str(t.dtype).replace("torch.", "")], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    header["__metadata__"] = {"format": "pt"}
    raw = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + b"".join(blobs))
    return path


def run(argv, capsys):
    code = export.main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def logits_of(out_path, expected_pixels):
    """The exported model's float64 logits, recomputed from the weights the exporter took."""
    meta = {p.key: p.value for p in onnx.load(str(out_path)).metadata_props}
    return meta


def exported_logits(argv, tmp_path):
    """Runs prepare() as the CLI does and returns (float64 logits on vit_plain's images, log lines)."""
    args = export.build_parser().parse_args(argv + ["--out", str(tmp_path / "m.onnx")])
    lines = []
    loaded, config, values, _, sources = export.prepare(args, lines.append)
    _, _, _, pixels = load_family("vit_plain")
    with torch.no_grad():
        logits = VitGraph(config, loaded.state_dict, torch.float64).forward_pass(pixels)[0]
    return logits, lines, loaded, values, sources


@pytest.fixture(scope="module")
def plain():
    _, _, expected, _ = load_family("vit_plain")
    return torch.load(PLAIN / "model.pth"), expected["logits"]


def test_safetensors_file_is_parsed_without_the_package(tmp_path, plain):
    state_dict, golden = plain
    path = write_safetensors(tmp_path / "model.safetensors", state_dict)
    logits, lines, *_ = exported_logits(["--checkpoint", str(path)] + FACTS, tmp_path)
    assert rel(logits, golden) <= 1e-12
    assert "checkpoint: format: safetensors" in lines


def test_truncated_safetensors_is_refused_naming_the_file(tmp_path, capsys, plain):
    path = write_safetensors(tmp_path / "model.safetensors", plain[0])
    path.write_bytes(path.read_bytes()[:-100])
    code, _, err = run(["--checkpoint", str(path), "--out", str(tmp_path / "m.onnx")] + FACTS, capsys)
    assert code == 1 and str(path) in err and "truncated" in err


@pytest.mark.parametrize("prefix", ["module.", "_orig_mod.", "module._orig_mod.", "model."])
def test_wrapper_prefixes_are_stripped_and_reported(tmp_path, plain, prefix):
    state_dict, golden = plain
    wrapped = {prefix + k: v for k, v in state_dict.items()}
    if prefix == "model.":  # a Lightning module: the net under `model.`, other attributes beside it
        wrapped["criterion.weight"] = torch.ones(7)
        wrapped = {"state_dict": wrapped, "epoch": 3, "pytorch-lightning_version": "2.4.0"}
    torch.save(wrapped, tmp_path / "ckpt.pth")
    logits, lines, *_ = exported_logits(["--checkpoint", str(tmp_path / "ckpt.pth")] + FACTS, tmp_path)
    assert rel(logits, golden) <= 1e-12
    assert any("stripped the" in line for line in lines)
    if prefix == "model.":
        assert any("left out 1 key(s) outside it, first 'criterion.weight'" in line for line in lines)


def test_train_checkpoint_takes_ema_by_default_and_its_args(tmp_path):
    path = PLAIN / "variants" / "train_checkpoint.pth.tar"
    ema = np.load(PLAIN / "variants" / "expected_ema.npz")["logits_ema"]
    logits, lines, loaded, values, sources = exported_logits(["--checkpoint", str(path)], tmp_path)
    assert rel(logits, ema) <= 1e-9 and loaded.weights == "ema"
    assert any("'state_dict_ema'" in line and "--weights model" in line for line in lines)
    assert (values["num_heads"], values["crop_pct"], values["interpolation"]) == (2, 0.875, "bilinear")
    assert list(values["mean"]) == [0.485, 0.456, 0.406]
    assert sources["mean"] == sources["num_heads"] == "checkpoint args (timm train.py)"
    assert sources["global_pool"] == "timm defaults for vit_small_patch16_224"


def test_train_checkpoint_non_ema_weights_on_request(tmp_path, plain):
    path = PLAIN / "variants" / "train_checkpoint.pth.tar"
    logits, _, loaded, *_ = exported_logits(["--checkpoint", str(path), "--weights", "model"], tmp_path)
    assert rel(logits, plain[1]) <= 1e-9 and loaded.weights == "model"


def test_weights_choice_is_stored_in_the_metadata(tmp_path, capsys):
    path = PLAIN / "variants" / "train_checkpoint.pth.tar"
    out = tmp_path / "m.onnx"
    code, printed, _ = run(["--checkpoint", str(path), "--out", str(out), "--graphs", "full",
                            "--skip-timm-check", "--dtype", "float64"], capsys)
    assert code == 0
    meta = {p.key: p.value for p in onnx.load(str(out)).metadata_props}
    assert meta["dermxai.weights"] == "ema" and meta["crop_pct"] == "0.875"
    assert "fact: mean = (0.485, 0.456, 0.406)  [checkpoint args (timm train.py)]" in printed


def test_save_for_hf_folder_brings_its_own_config(tmp_path, plain):
    folder = tmp_path / "hf"
    folder.mkdir()
    shutil.copyfile(PLAIN / "model.pth", folder / "pytorch_model.bin")
    shutil.copyfile(PLAIN / "variants" / "hf_config.json", folder / "config.json")
    logits, _, _, values, sources = exported_logits(["--checkpoint", str(folder)], tmp_path)
    assert rel(logits, plain[1]) <= 1e-12
    assert values["num_heads"] == 2 and sources["num_heads"].startswith("config.json beside the checkpoint")


class Holder(torch.nn.Module):
    """A whole model pickled with torch.save(model): modules nested like the state dict's keys."""

    def __init__(self, state_dict):
        super().__init__()
        for key, value in state_dict.items():
            module, *path, name = [self] + key.split(".")
            for part in path:
                if not hasattr(module, part):
                    module.add_module(part, torch.nn.Module())
                module = getattr(module, part)
            module.register_parameter(name, torch.nn.Parameter(value, requires_grad=False))


def test_whole_pickled_model_needs_trust(tmp_path, capsys, plain):
    torch.save(Holder(plain[0]), tmp_path / "whole.pth")
    code, _, err = run(["--checkpoint", str(tmp_path / "whole.pth"), "--out", str(tmp_path / "m.onnx")] + FACTS, capsys)
    assert code == 1 and "--trust-checkpoint" in err and "Holder" in err and str(tmp_path / "whole.pth") in err
    logits, lines, *_ = exported_logits(["--checkpoint", str(tmp_path / "whole.pth"), "--trust-checkpoint"] + FACTS,
                                        tmp_path)
    assert rel(logits, plain[1]) <= 1e-12 and any("whole pickled model of class Holder" in line for line in lines)


def test_missing_facts_are_refused_naming_every_flag(tmp_path, capsys):
    code, _, err = run(["--checkpoint", str(PLAIN / "model.pth"), "--out", str(tmp_path / "m.onnx")], capsys)
    assert code == 1 and str(PLAIN / "model.pth") in err
    for flag in ("--num-heads", "--global-pool", "--layernorm-eps", "--act", "--mean", "--std", "--crop-pct",
                 "--interpolation", "--arch"):
        assert flag in err
    code, _, err = run(["--checkpoint", str(PLAIN / "model.pth"), "--out", str(tmp_path / "m.onnx"),
                        "--arch", "vit_small_patch16_224"], capsys)
    assert code == 1 and "num_heads (--num-heads; vit_small_patch16_224 has width 384, the weights 64)" in err
    code, _, err = run(["--checkpoint", str(PLAIN / "model.pth"), "--out", str(tmp_path / "m.onnx"),
                        "--arch", "vit_smal_patch16_224", "--num-heads", "2"], capsys)
    assert code == 1 and "closest: vit_small_patch16_224" in err


def test_unsupported_features_are_all_named_with_the_nearest_alternative(tmp_path, capsys, plain):
    state_dict = dict(plain[0])
    state_dict["attn_pool.latent"] = torch.zeros(1, 1, 64)
    state_dict["patch_embed.norm.weight"] = torch.ones(64)
    torch.save(state_dict, tmp_path / "siglip_like.pth")
    code, _, err = run(["--checkpoint", str(tmp_path / "siglip_like.pth"), "--out", str(tmp_path / "m.onnx"),
                        "--arch", "vit_base_patch16_siglip_224"], capsys)
    assert code == 1 and "uses 2 unsupported feature(s)" in err  # attention pooling named once
    assert err.count("nearest supported") == 2 and "attention pooling" in err and "patch embedding" in err


def test_external_data_keeps_weights_in_one_file_beside_the_graph(tmp_path, capsys):
    out = tmp_path / "m.onnx"
    code, printed, err = run(export_flags("dinov2_reg") + ["--out", str(out), "--external-data", "always",
                                                          "--skip-timm-check"], capsys)
    assert code == 0, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.forward.onnx", "m.forward.onnx.data", "m.gradient.onnx",
                                                          "m.gradient.onnx.data", "m.onnx", "m.onnx.data"]
    model = onnx.load(str(out))
    assert {p.key: p.value for p in model.metadata_props}["readout"] == "class"
    assert all(t.data_location == onnx.TensorProto.EXTERNAL for t in onnx.load(str(out), load_external_data=False)
               .graph.initializer if t.dims and np.prod(t.dims) > 16)
