"""The demo-model training pieces: eval transform against torchvision's golden tensors, timm key
names of the training model, and its logits against the export tool's independent forward."""
import json
import os
import sys

import numpy as np
import pytest
import torch

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(REPO, "tools", "synth_derm"))
import data  # noqa: E402
import train  # noqa: E402
from tiny_vit import VisionTransformer  # noqa: E402
from golden import expected_preprocess, preprocess_cases  # noqa: E402


def golden_cases():
    return [c for c in preprocess_cases() if c["crop_pct"] == 0.9 and c["interpolation"] == "bicubic"
            and c["image_size"] == 224 and c["exif_orientation"] is None]


@pytest.mark.parametrize("case", golden_cases(), ids=lambda c: c["file"])
def test_eval_crop_equals_torchvision_timm_eval_transform(case):
    expected = expected_preprocess(case)
    crop = torch.from_numpy(data.eval_crop(case["path"]).copy())
    actual = data.normalise(crop.permute(2, 0, 1)[None])[0].numpy()
    assert np.abs(actual - expected.reshape(actual.shape)).max() < 1e-5


def test_state_dict_uses_timm_key_names_and_shapes():
    model = VisionTransformer(num_classes=6, width=64, depth=2, num_heads=1)
    shapes = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    assert shapes["cls_token"] == (1, 1, 64) and shapes["pos_embed"] == (1, 197, 64)
    assert shapes["patch_embed.proj.weight"] == (64, 3, 16, 16)
    for i in range(2):
        for name, shape in (("norm1.weight", (64,)), ("attn.qkv.weight", (192, 64)), ("attn.qkv.bias", (192,)),
                            ("attn.proj.weight", (64, 64)), ("norm2.bias", (64,)),
                            ("mlp.fc1.weight", (256, 64)), ("mlp.fc2.weight", (64, 256))):
            assert shapes[f"blocks.{i}.{name}"] == shape
    assert shapes["norm.weight"] == (64,) and shapes["head.weight"] == (6, 64)
    assert len(shapes) == 8 + 2 * 12


def test_training_model_logits_equal_the_export_tools_forward():
    export_dir = os.path.join(REPO, "tools", "export_onnx")
    sys.path.insert(0, export_dir)
    try:
        checkpoint = pytest.importorskip("checkpoint")
        vit_graph = pytest.importorskip("vit_graph")
    finally:
        sys.path.remove(export_dir)
    torch.manual_seed(0)
    model = VisionTransformer(num_classes=6, width=128, depth=2, num_heads=2).double().eval()
    state = model.state_dict()
    config = checkpoint.infer_config(state, num_heads=2)
    reference = vit_graph.VitGraph(config, state, dtype=torch.float64)
    x = torch.randn(2, 3, 224, 224, dtype=torch.float64)
    with torch.no_grad():
        expected = reference.forward_pass(x)[0]
        actual = model(x)
    assert torch.allclose(actual, expected, rtol=1e-9, atol=1e-9)


def test_confusion_metrics_count_per_class():
    confusion = torch.tensor([[3, 1], [0, 4]])
    metrics = train.metrics_from_confusion(confusion, ["a", "b"])
    assert metrics["accuracy"] == 0.875 and metrics["total"] == 8
    assert metrics["per_class"]["a"] == {"correct": 3, "total": 4, "accuracy": 0.75}


def test_augmented_batch_is_normalised_224_and_seeded():
    squares = torch.randint(0, 256, (3, 3, 248, 248), dtype=torch.uint8)
    first = data.augment_batch(squares, torch.Generator().manual_seed(1))
    second = data.augment_batch(squares, torch.Generator().manual_seed(1))
    assert first.shape == (3, 3, 224, 224) and torch.equal(first, second)
    lowest = (0 - max(data.MEAN)) / min(data.STD)
    assert first.min() >= lowest - 1e-6


def test_share_of_other_classes_drawn_to_each_class():
    import evaluate_checkpoint
    confusion = torch.tensor([[5, 0, 0], [3, 1, 0], [1, 0, 3]])
    assert evaluate_checkpoint.drawn_to_each_class(confusion) == [0.5, 0.0, 0.0]


def test_checkpoint_shape_is_read_back(tmp_path):
    import evaluate_checkpoint
    model = VisionTransformer(num_classes=5, width=64, depth=3, num_heads=1)
    torch.save(model.state_dict(), tmp_path / "c.pth")
    loaded = evaluate_checkpoint.model_from_checkpoint(tmp_path / "c.pth", heads=1)
    x = torch.randn(1, 3, 224, 224)
    with torch.no_grad():
        assert torch.equal(loaded.eval()(x), model.eval()(x))


def write_json(path, value):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value))


def test_model_card_lists_every_training_stage_first_stage_first(tmp_path):
    import package_model
    write_json(tmp_path / "a" / "train_log.json", {"args": {"init": None, "epochs": 3}})
    write_json(tmp_path / "b" / "train_log.json", {"args": {"init": str(tmp_path / "a" / "checkpoint.pth"), "epochs": 2}})
    stages = package_model.training_stages(str(tmp_path / "b"))
    assert [s["args"]["epochs"] for s in stages] == [3, 2]
    commands = package_model.shortcut_training_commands(stages).splitlines()
    assert "--out artifacts/shortcut_stage1" in commands[0] and "--init" not in commands[0]
    assert "--init artifacts/shortcut_stage1/checkpoint.pth" in commands[1]
    assert "--out artifacts/shortcut " in commands[1] + " "


def test_data_command_is_rebuilt_from_the_manifest(tmp_path):
    import package_model
    write_json(tmp_path / "manifest.json", {"count": 9, "seed": 4, "start": 0, "forced_artifacts": [],
                                            "shortcut": {"class": 0, "artifact": "sticker", "rate": 0.9}})
    command = package_model.data_command(str(tmp_path))
    assert f"--out {tmp_path} --count 9 --seed 4" in command
    assert command.endswith("--shortcut-class 0 --shortcut-artifact sticker --shortcut-rate 0.9")
