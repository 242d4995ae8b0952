"""Model manifest, loading and ONNX inference. Imports nothing of ours."""
