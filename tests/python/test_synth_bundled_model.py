"""The bundled default model folder: checksums, size, labels, contract metadata, the demo warning."""
import hashlib
import json
import os

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MODEL_DIR = os.path.join(REPO, "models", "default")

pytestmark = pytest.mark.skipif(not os.path.exists(os.path.join(MODEL_DIR, "model.onnx")),
                                reason="models/default/model.onnx is not there yet")


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def read_labels():
    with open(os.path.join(MODEL_DIR, "labels.txt")) as f:
        return f.read().split()


def test_checksums_match_the_files():
    with open(os.path.join(MODEL_DIR, "SHA256SUMS")) as f:
        entries = [line.split() for line in f if line.strip()]
    names = {name for _, name in entries}
    assert {"model.onnx", "model.gradient.onnx", "model.forward.onnx", "labels.txt"} <= names
    for digest, name in entries:
        assert sha256(os.path.join(MODEL_DIR, name)) == digest, name


def test_graphs_together_fit_in_30_mb():
    graphs = ("model.onnx", "model.gradient.onnx", "model.forward.onnx")
    size = sum(os.path.getsize(os.path.join(MODEL_DIR, f)) for f in graphs)
    assert size <= 30 * 1024 * 1024


def test_labels_are_the_generators_classes_and_in_the_contract_metadata():
    onnx = pytest.importorskip("onnx")
    labels = read_labels()
    with open(os.path.join(REPO, "samples", "labels.txt")) as f:
        assert labels == f.read().split()
    model = onnx.load(os.path.join(MODEL_DIR, "model.onnx"), load_external_data=False)
    metadata = {p.key: p.value for p in model.metadata_props}
    assert json.loads(metadata["labels"]) == labels
    assert metadata["dermxai.contract"] == "1"
    assert int(metadata["image_size"]) == 224 and int(metadata["patch_size"]) == 16
    assert float(metadata["crop_pct"]) == pytest.approx(0.9) and metadata["interpolation"] == "bicubic"


def test_model_card_says_demo_only_and_never_for_diagnosis():
    with open(os.path.join(MODEL_DIR, "MODEL_CARD.md")) as f:
        card = f.read()
    assert "DEMO ONLY" in card and "NEVER FOR DIAGNOSIS" in card and "synthetic" in card.lower()
    for label in read_labels():
        assert label in card
