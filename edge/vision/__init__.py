"""Watch-listed vehicle plates from body-cam and street video.

Pure modules (safe to import in the daemon, no OpenCV, no onnxruntime): `reading`, `tracker`,
`watchlist`, `messages`, `pipeline`, `handoff`, `camera`, `cli`. Only `worker` and `imaging` import OpenCV,
and only `worker` loads the ONNX models (through `models.*`); they run in one process per camera. The plate
grammar is part of the wire contract (`edge.wire.plates`): central checks watch-list plates with it too.
"""
