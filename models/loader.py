"""Locate, verify and open the ONNX models named in the manifest. Never downloads anything.

The weights ship inside the installed `rapidocr_onnxruntime` wheel; we find its directory without
importing it (importing it would pull in its whole pipeline). The file is read once, its sha256
checked against the manifest, and the session built from those same bytes, so what was verified
is what runs. Sessions use the CPU provider with explicit thread counts and no spinning: a
2-core box runs one camera per core.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
from dataclasses import dataclass
from pathlib import Path

import onnxruntime as ort

from models.manifest import ModelSpec

__all__ = [
    "LoadedModel",
    "ModelCharsetError",
    "ModelError",
    "ModelIntegrityError",
    "ModelNotFoundError",
    "locate",
    "open_model",
    "package_dir",
    "read_verified",
    "sha256_hex",
]


class ModelError(RuntimeError):
    """A model could not be located, verified or opened."""


class ModelNotFoundError(ModelError):
    pass


class ModelIntegrityError(ModelError):
    """The file's sha256 differs from the manifest."""

    def __init__(self, *, path: Path, expected: str, actual: str) -> None:
        super().__init__(f"{path}: sha256 mismatch: expected {expected}, actual {actual}")
        self.path = path
        self.expected = expected
        self.actual = actual


class ModelCharsetError(ModelError):
    pass


@dataclass(frozen=True, slots=True)
class LoadedModel:
    spec: ModelSpec
    path: Path
    session: ort.InferenceSession
    labels: tuple[str, ...] | None  # CTC labels, blank first; None for models without a charset


def package_dir(package: str) -> Path:
    """The directory of an installed package, found without importing it."""
    found = importlib.util.find_spec(package)
    if found is None or not found.submodule_search_locations:
        raise ModelNotFoundError(f"package {package!r} is not installed (it carries the model weights)")
    return Path(next(iter(found.submodule_search_locations)))


def locate(spec: ModelSpec, *, model_dir: Path | None = None) -> Path:
    """`model_dir/<file>` if given, else the file inside the installed source package."""
    path = model_dir / spec.file if model_dir is not None else package_dir(spec.source_package) / spec.source_path
    if not path.is_file():
        try:
            installed = importlib.metadata.version(spec.source_package.replace("_", "-"))
        except importlib.metadata.PackageNotFoundError:
            installed = "not installed"
        raise ModelNotFoundError(
            f"{path}: model {spec.name!r} not found (manifest expects {spec.source_package} "
            f"{spec.source_version}, installed: {installed})"
        )
    return path


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _labels(spec: ModelSpec, session: ort.InferenceSession, path: Path) -> tuple[str, ...] | None:
    charset = spec.charset
    if charset is None:
        return None
    meta = session.get_modelmeta().custom_metadata_map
    raw = meta.get(charset.metadata_key)
    if raw is None:
        raise ModelCharsetError(f"{path}: no {charset.metadata_key!r} in the model metadata")
    actual = sha256_hex(raw.encode("utf-8"))
    chars = raw.splitlines()
    if actual != charset.sha256 or len(chars) != charset.count:
        raise ModelCharsetError(
            f"{path}: charset mismatch: expected {charset.count} labels sha256 {charset.sha256}, "
            f"actual {len(chars)} labels sha256 {actual}"
        )
    labels = list(chars)
    if charset.space_appended:
        labels.append(" ")
    labels.insert(charset.blank_index, "")  # CTC blank decodes to nothing
    return tuple(labels)


def read_verified(spec: ModelSpec, *, model_dir: Path | None = None) -> tuple[Path, bytes]:
    """The model's file and its bytes, checked against the manifest's sha256 (build from these bytes)."""
    path = locate(spec, model_dir=model_dir)
    data = path.read_bytes()
    actual = sha256_hex(data)
    if actual != spec.sha256:
        raise ModelIntegrityError(path=path, expected=spec.sha256, actual=actual)
    return path, data


def open_model(
    spec: ModelSpec,
    *,
    model_dir: Path | None = None,
    intra_op_threads: int = 1,
    inter_op_threads: int = 1,
) -> LoadedModel:
    """Verify the weights against the manifest and build a CPU `InferenceSession`."""
    if intra_op_threads < 1 or inter_op_threads < 1:
        raise ValueError("thread counts must be >= 1")
    path, data = read_verified(spec, model_dir=model_dir)
    options = ort.SessionOptions()
    options.intra_op_num_threads = intra_op_threads
    options.inter_op_num_threads = inter_op_threads
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.add_session_config_entry("session.inter_op.allow_spinning", "0")
    try:
        session = ort.InferenceSession(data, sess_options=options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own untyped errors
        raise ModelError(f"{path}: onnxruntime cannot open model {spec.name!r}: {exc}") from exc
    inputs = {i.name for i in session.get_inputs()}
    if spec.input_name not in inputs:
        raise ModelError(f"{path}: input {spec.input_name!r} not in model inputs {sorted(inputs)}")
    return LoadedModel(spec, path, session, _labels(spec, session, path))
