"""Reading a .safetensors file without the safetensors package: 8-byte little-endian header length,
a JSON header {name: {dtype, shape, data_offsets}} (plus optional __metadata__), then raw tensors."""
import json
import struct

import torch

from errors import ExportError

DTYPES = {"F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
          "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8,
          "BOOL": torch.bool}
MAX_HEADER = 100 << 20


def looks_like_safetensors(path):
    with open(path, "rb") as f:
        head = f.read(9)
    return len(head) == 9 and struct.unpack("<Q", head[:8])[0] < MAX_HEADER and head[8:9] == b"{"


def read_safetensors(path):
    """(tensors {name: tensor}, metadata dict) of the file; every defect is an ExportError."""
    with open(path, "rb") as f:
        data = f.read()
    (length,) = struct.unpack("<Q", data[:8])
    try:
        header = json.loads(data[8:8 + length].decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise ExportError(f"Cannot read {path} as safetensors: the JSON header does not parse ({e}).")
    body = memoryview(data)[8 + length:]
    metadata = header.pop("__metadata__", None) or {}
    tensors = {}
    for name, entry in header.items():
        try:
            dtype = DTYPES[entry["dtype"]]
            shape = [int(n) for n in entry["shape"]]
            start, end = (int(n) for n in entry["data_offsets"])
        except (KeyError, TypeError, ValueError):
            raise ExportError(f"Cannot read {path} as safetensors: tensor '{name}' has an unsupported "
                              f"or malformed header entry {entry}; re-save it with float32 weights.")
        count = 1
        for n in shape:
            count *= n
        if not 0 <= start <= end <= len(body) or end - start != count * torch.empty(0, dtype=dtype).element_size():
            raise ExportError(f"Cannot read {path} as safetensors: tensor '{name}' has data offsets "
                              f"[{start}, {end}) that do not fit its shape {shape} or the file "
                              f"({len(body)} data bytes); the file is truncated or corrupt.")
        raw = bytearray(body[start:end])
        flat = torch.frombuffer(raw, dtype=dtype) if raw else torch.empty(0, dtype=dtype)
        tensors[name] = flat.reshape(shape).clone()
    return tensors, metadata
