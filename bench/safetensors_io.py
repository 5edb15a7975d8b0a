"""Minimal safetensors reader/writer (numpy only; torch tensors accepted on write).

Format: 8-byte little-endian u64 N, then N bytes of UTF-8 JSON header
    {"__metadata__": {str: str}, "name": {"dtype": "F32", "shape": [...],
     "data_offsets": [start, end]}, ...}
then the raw little-endian tensor bytes; offsets are relative to the end of the
header. Debian bookworm has no python3-safetensors and PyPI is unreachable, so
this ~60-line module stands in for it. The reader validates strictly (exact
keys, byte counts, no holes or overlaps) so it doubles as a checker for files
written by the TypeScript side.

Usage:
    from safetensors_io import save_file, load_file
    save_file({"w": array_or_tensor}, "x.safetensors", metadata={"format": "pt"})
    tensors, metadata = load_file("x.safetensors")   # dict name -> np.ndarray
"""

import json
import struct

import numpy as np

DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4",
          "I16": "<i2", "I8": "i1", "U8": "u1", "BOOL": "?"}
NAMES = {np.dtype(v): k for k, v in DTYPES.items()}


def save_file(tensors, path, metadata=None):
    """Write name -> array/tensor (sorted by name) with optional str->str metadata."""
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    for name in sorted(tensors):
        t = tensors[name]
        if hasattr(t, "detach"):  # torch.Tensor
            t = t.detach().cpu().contiguous().numpy()
        a = np.ascontiguousarray(t)
        a = a.astype(a.dtype.newbyteorder("<"), copy=False)
        data = a.tobytes()
        header[name] = {"dtype": NAMES[a.dtype], "shape": list(a.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    raw = json.dumps(header, separators=(",", ":")).encode("utf-8")
    raw += b" " * (-len(raw) % 8)  # pad with spaces so the data starts 8-aligned
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)) + raw + b"".join(blobs))


def load_file(path):
    """Return (dict name -> np.ndarray, metadata dict). Raises ValueError if malformed."""
    with open(path, "rb") as f:
        buf = f.read()
    if len(buf) < 8:
        raise ValueError("file shorter than 8 bytes")
    (n,) = struct.unpack("<Q", buf[:8])
    if n > len(buf) - 8:
        raise ValueError(f"header length {n} exceeds file size {len(buf)}")
    header = json.loads(buf[8:8 + n].decode("utf-8"))
    data = memoryview(buf)[8 + n:]
    metadata = header.pop("__metadata__", None) or {}
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
        raise ValueError("__metadata__ must map str -> str")
    tensors, spans = {}, []
    for name, info in header.items():
        if set(info) != {"dtype", "shape", "data_offsets"} or info["dtype"] not in DTYPES:
            raise ValueError(f"{name}: bad entry {info}")
        dt, shape, (start, end) = np.dtype(DTYPES[info["dtype"]]), info["shape"], info["data_offsets"]
        if end - start != dt.itemsize * int(np.prod(shape, dtype=np.int64)) or not 0 <= start <= end <= len(data):
            raise ValueError(f"{name}: data_offsets {[start, end]} do not fit shape {shape} ({info['dtype']})")
        tensors[name] = np.frombuffer(data[start:end], dtype=dt).reshape(shape).copy()
        spans.append((start, end))
    pos = 0
    for start, end in sorted(spans):
        if start != pos:
            raise ValueError(f"data has a hole or overlap at byte {pos}")
        pos = end
    if pos != len(data):
        raise ValueError(f"{len(data) - pos} trailing bytes after the last tensor")
    return tensors, metadata
