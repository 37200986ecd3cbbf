"""Read a CTranslate2 ``model.bin`` (binary spec version 6) into numpy arrays.

Layout (ctranslate2/specs/model_spec.py ``_serialize``): uint32 version, string spec name,
uint32 revision, uint32 variable count, then per variable: string name, uint8 rank, uint32
dims, uint8 dtype id, uint32 byte count, raw bytes; then uint32 alias count and
(alias, target) string pairs. Strings are uint16 length (including a NUL) + UTF-8 + NUL.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

_DTYPES = (np.float32, np.int8, np.int16, np.int32, np.float16, None)  # id 5 = bfloat16


def _read(f, fmt: str):
    size = struct.calcsize(fmt)
    data = f.read(size)
    if len(data) != size:
        raise ValueError("unexpected end of CTranslate2 model file")
    return struct.unpack(fmt, data)[0]


def _read_string(f) -> str:
    length = _read(f, "<H")
    return f.read(length)[:-1].decode("utf-8")


def read_ct2_model(path: str | Path) -> tuple[str, dict[str, np.ndarray]]:
    """Spec name and every variable (aliases resolved) of the CTranslate2 model at ``path``."""
    variables: dict[str, np.ndarray] = {}
    with open(path, "rb") as f:
        version = _read(f, "<I")
        if version > 6:
            raise ValueError(f"CTranslate2 binary version {version} is newer than this reader (6)")
        spec = _read_string(f)
        _read(f, "<I")  # revision
        for _ in range(_read(f, "<I")):
            name = _read_string(f)
            rank = _read(f, "<B")
            shape = tuple(_read(f, "<I") for _ in range(rank))
            dtype_id = _read(f, "<B")
            nbytes = _read(f, "<I")
            raw = f.read(nbytes)
            if dtype_id == 5:  # bfloat16 → float32
                arr = (np.frombuffer(raw, dtype=np.uint16).astype(np.uint32) << 16).view(np.float32)
            else:
                arr = np.frombuffer(raw, dtype=_DTYPES[dtype_id])
            variables[name] = arr.reshape(shape)
        for _ in range(_read(f, "<I")):
            alias = _read_string(f)
            target = _read_string(f)
            variables[alias] = variables[target]
    return spec, variables
