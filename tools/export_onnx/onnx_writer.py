"""Tracing the graphs to ONNX, naming every dimension, and stamping the contract metadata."""
import inspect
import json
import os
import warnings

import onnx
import torch

from graph_kinds import ContractGraph, example_inputs, input_shapes, output_shapes

CONTRACT_VERSION = "1"
CREATED_BY = "dermxai-export 1.0"
PROTOBUF_LIMIT = 2_000_000_000 - (64 << 20)  # weights above this cannot share the .onnx file


def contract_metadata(config, facts, checkpoint_sha256, labels, dtype_name):
    """The metadata_props of contract v1 (docs/contract.md#metadata) (plus num_classes, dtype, and the token layout
    of docs/model-families.md: prefix_tokens and readout)."""
    return {
        "dermxai.contract": CONTRACT_VERSION,
        "labels": json.dumps(labels),
        "mean": json.dumps(list(facts["mean"])),
        "std": json.dumps(list(facts["std"])),
        "image_size": str(config.image_size),
        "patch_size": str(config.patch_size),
        "num_layers": str(config.depth),
        "num_heads": str(config.num_heads),
        "num_classes": str(config.num_classes),
        "interpolation": facts["interpolation"],
        "crop_pct": repr(float(facts["crop_pct"])),
        "architecture": facts["arch"],
        "checkpoint_sha256": checkpoint_sha256,
        "created_by": CREATED_BY,
        "dtype": dtype_name,
        "prefix_tokens": str(config.prefix_tokens),
        "readout": config.readout,
    }


def _set_dims(value_info, dims):
    shape = value_info.type.tensor_type.shape
    del shape.dim[:]
    for dim in dims:
        entry = shape.dim.add()
        if isinstance(dim, str):
            entry.dim_param = dim
        else:
            entry.dim_value = dim


def _trace_to_file(module, example_inputs, input_shapes, output_shapes, path, opset):
    dynamic_axes = {name: {axis: dim for axis, dim in enumerate(dims) if isinstance(dim, str)}
                    for name, dims in list(input_shapes.items()) + list(output_shapes.items())}
    kwargs = {}
    if "dynamo" in inspect.signature(torch.onnx.export).parameters:
        kwargs["dynamo"] = False  # torch ≥ 2.9 defaults to the dynamo exporter; this is a trace
    with torch.no_grad(), warnings.catch_warnings():
        # torch 1.13 warns about prim::Constant shape inference when folding is off; harmless here
        warnings.filterwarnings("ignore", message="The shape inference of prim::Constant")
        torch.onnx.export(module, example_inputs, path, input_names=list(input_shapes),
                          output_names=list(output_shapes), dynamic_axes=dynamic_axes,
                          opset_version=opset,
                          # folding would store Wᵀ, max(W,0), min(W,0) as extra copies of every
                          # weight; ONNX Runtime folds them at session creation instead.
                          do_constant_folding=False, **kwargs)


def _finish_file(path, input_shapes, output_shapes, metadata, external):
    """Names the dims, stamps the metadata and saves; weights go to PATH.data (one file) when asked or
    when the graph would pass protobuf's 2 GB limit. Returns the file names written."""
    model = onnx.load(path)  # also reads the per-tensor files torch writes for graphs over 2 GB
    for value_info in list(model.graph.input) + list(model.graph.output):
        dims = input_shapes.get(value_info.name) or output_shapes.get(value_info.name)
        if dims is not None:
            _set_dims(value_info, dims)
    del model.metadata_props[:]
    for key, value in metadata.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    model.producer_name = "dermxai-export"
    weight_bytes = sum(len(t.raw_data) for t in model.graph.initializer)
    external = external or weight_bytes > PROTOBUF_LIMIT
    name = os.path.basename(path)
    for leftover in os.listdir(os.path.dirname(path)):
        if leftover != name and not leftover.endswith((".onnx", ".data")):
            os.remove(os.path.join(os.path.dirname(path), leftover))  # torch's per-tensor files
    if not external:
        onnx.checker.check_model(model)
        onnx.save(model, path)
        return [name]
    onnx.save_model(model, path, save_as_external_data=True, all_tensors_to_one_file=True,
                    location=f"{name}.data", size_threshold=0)
    onnx.checker.check_model(path)
    return [name, f"{name}.data"]


def write_graph(vit, graph_kind, path, metadata, opset, external=False, reduced=False):
    """Writes one graph kind ('full', 'gradient', 'forward'; graph_kinds.py) to `path` (a folder of
    its own: torch may write per-tensor files beside it). Returns the file names written."""
    module = ContractGraph(vit, graph_kind, reduced)
    module.eval()
    inputs, outputs = input_shapes(graph_kind, vit.config), output_shapes(graph_kind, vit.config, reduced)
    _trace_to_file(module, example_inputs(graph_kind, vit), inputs, outputs, path, opset)
    stamped = dict(metadata, **{"dermxai.graph": graph_kind, "dermxai.reduced_heads": str(reduced).lower()})
    if graph_kind != "forward":
        stamped["dermxai.target_ranks"] = "true"
    return _finish_file(path, inputs, outputs, stamped, external)


def graph_path(out_path, graph_kind):
    """MODEL.onnx (full), MODEL.gradient.onnx, MODEL.forward.onnx."""
    if graph_kind == "full":
        return out_path
    root, ext = os.path.splitext(out_path)
    return f"{root}.{graph_kind}{ext or '.onnx'}"
