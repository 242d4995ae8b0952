"""The manifest of the models in use: file, sha256, shapes, charset, licence and source package.

`manifest.json` beside this module is the single source of truth; `load_manifest()` parses it
strictly (unknown keys are errors naming the file and key path). Imports nothing of ours, and
nothing heavy: the daemon may read the manifest to report model versions.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["DEFAULT_MANIFEST", "CharsetSpec", "Manifest", "ManifestError", "ModelSpec", "load_manifest"]

DEFAULT_MANIFEST = Path(__file__).with_name("manifest.json")


class ManifestError(ValueError):
    """The manifest file is malformed; the message names the file, key path and value."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CharsetSpec:
    """Where a recogniser's labels come from and how to check them."""

    source: str  # "onnx-metadata:<key>"
    count: int
    sha256: str  # of the UTF-8 metadata string
    blank_index: int  # CTC blank, inserted at this index
    space_appended: bool  # PaddleOCR appends " " after the dictionary

    @property
    def metadata_key(self) -> str:
        prefix = "onnx-metadata:"
        if not self.source.startswith(prefix):
            raise ManifestError(f"charset source {self.source!r} is not {prefix}<key>")
        return self.source[len(prefix) :]


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelSpec:
    name: str
    file: str
    sha256: str
    size_bytes: int
    task: str
    input_name: str
    input_shape: tuple[int | None, ...]  # None for a dynamic dimension
    output_name: str
    input_multiple: int  # dynamic spatial dimensions must be multiples of this
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    charset: CharsetSpec | None
    licence: str
    upstream: str
    source_package: str
    source_version: str
    source_path: str  # relative to the source package's directory


@dataclass(frozen=True, slots=True)
class Manifest:
    path: Path
    models: dict[str, ModelSpec]

    def __getitem__(self, name: str) -> ModelSpec:
        try:
            return self.models[name]
        except KeyError:
            raise ManifestError(f"{self.path}: no model named {name!r} (have {sorted(self.models)})") from None


_MODEL_KEYS = {
    "file": str, "sha256": str, "size_bytes": int, "task": str, "input_name": str, "input_shape": list,
    "output_name": str, "input_multiple": int, "mean": list, "std": list, "charset": (dict, type(None)),
    "licence": str, "upstream": str, "source_package": str, "source_version": str, "source_path": str,
}  # fmt: skip
_CHARSET_KEYS = {"source": str, "count": int, "sha256": str, "blank_index": int, "space_appended": bool}


def _check(obj: Any, keys: dict[str, Any], where: str) -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise ManifestError(f"{where}: expected an object, got {obj!r}")
    unknown = sorted(set(obj) - set(keys))
    if unknown:
        raise ManifestError(f"{where}: unknown key(s) {unknown}")
    for key, kind in keys.items():
        if key not in obj:
            raise ManifestError(f"{where}.{key}: missing")
        if not isinstance(obj[key], kind):
            raise ManifestError(f"{where}.{key}: wrong type: {obj[key]!r}")
    return obj


def _triple(values: list[Any], where: str) -> tuple[float, float, float]:
    if len(values) != 3 or not all(isinstance(v, int | float) for v in values):
        raise ManifestError(f"{where}: expected three numbers, got {values!r}")
    return float(values[0]), float(values[1]), float(values[2])


def load_manifest(path: Path = DEFAULT_MANIFEST) -> Manifest:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ManifestError(f"{path}: cannot read the manifest: {exc}") from exc
    _check(doc, {"manifest_version": int, "models": dict}, str(path))
    if doc["manifest_version"] != 1:
        raise ManifestError(f"{path}: manifest_version: unsupported {doc['manifest_version']!r}")
    models: dict[str, ModelSpec] = {}
    for name, raw in doc["models"].items():
        where = f"{path}: models.{name}"
        m = _check(raw, _MODEL_KEYS, where)
        charset = None
        if m["charset"] is not None:
            c = _check(m["charset"], _CHARSET_KEYS, f"{where}.charset")
            charset = CharsetSpec(**c)
        shape = m["input_shape"]
        if not all(d is None or (isinstance(d, int) and d > 0) for d in shape):
            raise ManifestError(f"{where}.input_shape: expected positive integers or null, got {shape!r}")
        if len(m["sha256"]) != 64:
            raise ManifestError(f"{where}.sha256: expected 64 hex digits, got {m['sha256']!r}")
        models[name] = ModelSpec(
            name=name,
            file=m["file"],
            sha256=m["sha256"].lower(),
            size_bytes=m["size_bytes"],
            task=m["task"],
            input_name=m["input_name"],
            input_shape=tuple(shape),
            output_name=m["output_name"],
            input_multiple=m["input_multiple"],
            mean=_triple(m["mean"], f"{where}.mean"),
            std=_triple(m["std"], f"{where}.std"),
            charset=charset,
            licence=m["licence"],
            upstream=m["upstream"],
            source_package=m["source_package"],
            source_version=m["source_version"],
            source_path=m["source_path"],
        )
    return Manifest(path, models)
