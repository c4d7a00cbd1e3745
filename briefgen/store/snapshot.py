"""Turn the pipeline's frozen dataclasses, DataFrames and scalars into JSON bytes, and back, exactly.

The cache stores validated inputs and their metrics this way instead of pickling them: reading a
pickle can run any code its writer chose, reading this only ever builds briefgen's own dataclasses,
DataFrames of plain dtypes and Python scalars. Floats keep every bit (JSON numbers via repr, NaN
and infinities as Python's json writes them), datetimes are stored as their integer ticks, and
each column keeps its dtype, so a brief made from a snapshot is byte-identical to one made from
the inputs. A value of a type not listed here raises Unsupported: the caller then does not cache.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import sys
from contextvars import ContextVar
from datetime import date, datetime
from pathlib import PurePosixPath
from typing import Any, Literal, TypeGuard, get_args

# The packages whose dataclasses a snapshot may name: briefgen's own, plus those a caller names for one
# dumps/loads (the build's sector, when it lives outside briefgen: code the build already imported).
_ROOTS: ContextVar[tuple[str, ...]] = ContextVar("snapshot_roots", default=("briefgen",))


class Unsupported(TypeError):
    """A value this format does not store (so the cache stores nothing rather than something wrong)."""


class Damaged(ValueError):
    """A snapshot that does not decode into what was stored."""


def dumps(value: Any, packages: tuple[str, ...] = ()) -> bytes:
    """`value` as JSON bytes; its dataclasses must be briefgen's or from `packages` (module names)."""
    token = _ROOTS.set(("briefgen", *packages))
    try:
        return json.dumps(_encode(value), sort_keys=True, separators=(",", ":")).encode("utf-8")
    finally:
        _ROOTS.reset(token)


def loads(data: bytes, packages: tuple[str, ...] = ()) -> Any:
    """The value dumps() stored; a dataclass outside briefgen and `packages` is Damaged, never imported."""
    token = _ROOTS.set(("briefgen", *packages))
    try:
        return _decode(json.loads(data))
    except Damaged:
        raise
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, ImportError, OverflowError) as exc:
        raise Damaged(f"not a snapshot ({exc})") from None
    finally:
        _ROOTS.reset(token)


def _owned(module_name: str) -> bool:
    """Whether a module is one whose dataclasses this dumps/loads may name."""
    return any(module_name == root or module_name.startswith(root + ".") for root in _ROOTS.get())


# --- encoding --------------------------------------------------------------------------------


def _encode(value: Any) -> Any:
    import numpy as np
    import pandas as pd

    if value is None or isinstance(value, (bool, str)):
        return value
    if type(value) in (int, float):
        return value
    if isinstance(value, np.generic):
        return {"$": "np", "dtype": value.dtype.str, "v": value.item()}
    if isinstance(value, datetime):
        raise Unsupported("datetime values")  # none in the pipeline; a timezone would need care
    if isinstance(value, date):
        return {"$": "date", "v": value.isoformat()}
    if isinstance(value, tuple):
        return {"$": "tuple", "v": [_encode(v) for v in value]}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        return {"$": "dict", "v": [[_encode(k), _encode(v)] for k, v in value.items()]}
    if isinstance(value, PurePosixPath):
        return {"$": "path", "v": str(value)}
    if isinstance(value, pd.DataFrame):
        return {
            "$": "frame",
            "index": _index(value.index),
            "columns": _index(value.columns),
            "data": [_column(value.iloc[:, i]) for i in range(value.shape[1])],
        }
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        cls = type(value)
        if not _owned(cls.__module__):
            raise Unsupported(f"{cls.__module__}.{cls.__qualname__}")
        return {
            "$": "dc",
            "cls": f"{cls.__module__}:{cls.__qualname__}",
            "v": {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)},
        }
    raise Unsupported(type(value).__qualname__)


NullableInteger = Literal["Int8", "Int16", "Int32", "Int64", "UInt8", "UInt16", "UInt32", "UInt64"]
StringStorage = Literal["python", "pyarrow"]
_NULLABLE_INTEGERS: tuple[NullableInteger, ...] = get_args(NullableInteger)
_STRING_STORAGES: tuple[StringStorage, ...] = get_args(StringStorage)


def _is_nullable_integer(name: str) -> TypeGuard[NullableInteger]:
    return name in _NULLABLE_INTEGERS


def _is_string_storage(name: str) -> TypeGuard[StringStorage]:
    return name in _STRING_STORAGES


def _values(array: Any) -> tuple[str, list]:
    """A Series' or Index's dtype and its values as JSON (datetimes as integer ticks, NaT included)."""
    import numpy as np
    import pandas as pd

    dtype = array.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "fiub":
        return dtype.str, np.asarray(array).tolist()
    if isinstance(dtype, np.dtype) and dtype.kind == "M":
        return dtype.str, np.asarray(array).view("i8").tolist()
    if isinstance(dtype, pd.api.extensions.ExtensionDtype) and dtype.name in _NULLABLE_INTEGERS:
        # pandas' nullable integers (shares_outstanding): whole numbers, or None for <NA>
        return f"nullable:{dtype.name}", [None if item is pd.NA else int(item) for item in array]
    is_object = isinstance(dtype, np.dtype) and dtype.kind == "O"
    if is_object or isinstance(dtype, pd.StringDtype):
        values: list[Any] = []  # JSON values
        for item in array:
            if item is None or isinstance(item, str):
                values.append(item)
            elif isinstance(item, float) and item != item:  # NaN: a str column's missing value
                values.append({"$": "nan"})
            else:
                values.append(_encode(item))
        kind = "object" if is_object else f"string:{dtype.storage}:{dtype.na_value!r}"
        return kind, values
    raise Unsupported(f"dtype {dtype}")


def _column(series: Any) -> dict:
    dtype, values = _values(series)
    return {"dtype": dtype, "v": values}


def _index(index: Any) -> dict:
    import pandas as pd

    if isinstance(index, pd.MultiIndex):
        raise Unsupported("MultiIndex")
    name = _encode(index.name)
    if isinstance(index, pd.RangeIndex):
        return {"range": [index.start, index.stop, index.step], "name": name}
    dtype, values = _values(index)
    return {"dtype": dtype, "v": values, "name": name}


# --- decoding --------------------------------------------------------------------------------


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    tag = value["$"]
    if tag == "date":
        return date.fromisoformat(value["v"])
    if tag == "tuple":
        return tuple(_decode(v) for v in value["v"])
    if tag == "dict":
        return {_decode(k): _decode(v) for k, v in value["v"]}
    if tag == "path":
        from pathlib import Path

        return Path(value["v"])
    if tag == "np":
        import numpy as np

        return np.dtype(value["dtype"]).type(value["v"])
    if tag == "nan":
        return float("nan")
    if tag == "frame":
        return _frame(value)
    if tag == "dc":
        cls = _dataclass(value["cls"])
        fields = {f.name: f for f in dataclasses.fields(cls)}
        stored = value["v"]
        if set(stored) != set(fields):
            raise Damaged(f"{value['cls']} fields changed")
        obj = cls(**{name: _decode(v) for name, v in stored.items() if fields[name].init})
        for name, v in stored.items():
            if not fields[name].init:
                object.__setattr__(obj, name, _decode(v))
        return obj
    raise Damaged(f"unknown tag {tag!r}")


def _dataclass(name: str) -> type:
    """A briefgen dataclass by module:qualname; nothing else can be named."""
    module_name, _, qualname = name.partition(":")
    if not _owned(module_name) or not qualname.isidentifier():
        raise Damaged(f"{name} is not a briefgen dataclass")
    module = sys.modules.get(module_name) or importlib.import_module(module_name)
    cls = getattr(module, qualname, None)
    if not isinstance(cls, type) or not dataclasses.is_dataclass(cls):
        raise Damaged(f"{name} is not a briefgen dataclass")
    return cls


def _array(dtype: str, values: list) -> Any:
    import numpy as np
    import pandas as pd

    if dtype == "object":
        return np.array([_decode(v) for v in values] or [], dtype=object)
    if dtype.startswith("nullable:"):
        name = dtype.split(":", 1)[1]
        if not _is_nullable_integer(name):
            raise Damaged(f"dtype {dtype}")
        return pd.array(values, dtype=name)
    if dtype.startswith("string:"):
        _, storage, na = dtype.split(":", 2)
        if not _is_string_storage(storage):
            raise Damaged(f"dtype {dtype}")
        items = [float("nan") if isinstance(v, dict) else v for v in values]
        na_value = pd.NA if na == "<NA>" else float("nan")
        # pandas-stubs types the two storages' arrays apart, so each gets its own call
        if storage == "python":
            return pd.array(items, dtype=pd.StringDtype(storage="python", na_value=na_value))
        return pd.array(items, dtype=pd.StringDtype(storage="pyarrow", na_value=na_value))
    numpy_dtype = np.dtype(dtype)
    if numpy_dtype.kind == "M":
        return np.array(values, dtype="i8").view(numpy_dtype)
    if numpy_dtype.kind not in "fiub":
        raise Damaged(f"dtype {dtype}")
    return np.array(values, dtype=numpy_dtype)


def _index_from(spec: dict) -> Any:
    import pandas as pd

    name = _decode(spec["name"])
    if "range" in spec:
        start, stop, step = spec["range"]
        return pd.RangeIndex(start, stop, step, name=name)
    return pd.Index(_array(spec["dtype"], spec["v"]), name=name, copy=False)


def _frame(spec: dict) -> Any:
    import pandas as pd

    index, columns = _index_from(spec["index"]), _index_from(spec["columns"])
    if len(columns) != len(spec["data"]):
        raise Damaged("a frame's columns and data differ in length")
    data = {i: pd.Series(_array(c["dtype"], c["v"]), index=index, copy=False) for i, c in enumerate(spec["data"])}
    frame = pd.DataFrame(data, index=index)
    frame.columns = columns
    return frame
