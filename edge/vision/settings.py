"""A camera worker's settings: what the daemon (or a tool) tells one spawned camera process."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["CameraSettings", "detector_side_for"]


@dataclass(frozen=True, slots=True, kw_only=True)
class CameraSettings:
    camera_id: str
    source: str  # a file path, an rtsp:// or http:// URL, or a device index ("0")
    watch_list: Path | None = None  # the WatchListStore file, polled about once a second
    analyses_per_second: float = 5.0
    intra_op_threads: int = 1  # onnxruntime threads for this camera (one core per camera on a 2-core box)
    keep_reads: bool = False  # also send reads that are not hits (tools, benchmark)
    pace: bool = True  # files only: play at the file's frame rate like a live camera; False = every
    #                    sampled frame is analysed, as fast as possible (deterministic, for tests)
    loop: bool = False  # files only: start again at the end
    telemetry_interval_s: float = 5.0
    reconnect_initial_s: float = 0.5
    reconnect_max_s: float = 30.0
    open_timeout_s: float = 10.0
    min_plate_width: int = 80  # pixels in the source frame; smaller plates cannot be read reliably
    max_candidates: int = 6  # per analysed frame, the best by score, OCR'd in one batch
    match_max_distance: float = 0.5  # watch-list near match (0.5 = one OCR-confusable substitution)
    snapshot_max_width: int = 1280

    def __post_init__(self) -> None:
        if not self.camera_id:
            raise ValueError("camera_id must not be empty")
        if not 0 < self.analyses_per_second <= 30:
            raise ValueError(f"analyses_per_second must be in (0, 30], got {self.analyses_per_second}")
        if not 1 <= self.intra_op_threads <= 16:
            raise ValueError(f"intra_op_threads must be in 1..16, got {self.intra_op_threads}")
        if not 0 < self.reconnect_initial_s <= self.reconnect_max_s:
            raise ValueError("need 0 < reconnect_initial_s <= reconnect_max_s")


def detector_side_for(long_side: int, min_plate_width: int) -> int:
    """The plate detector's input size (longer side) that still finds plates `min_plate_width` px wide.

    The detector finds plates down to its smallest anchor (24 px wide) but misses some below ~32 px
    (measured on the generated 1080p clip: sized for 24 px, i.e. 576, it found 90.5% of the plates in
    view per frame and the slowest first read took 842 ms; sized for 32 px, 768, 627 ms under a
    machine load of 7). A camera that reads plates from 80 px wide in 1080p needs a 768 px input,
    not 960. The recogniser reads the full-resolution frame either way.
    """
    side = long_side * 32 / min_plate_width
    return int(min(960, max(320, -(-side // 32) * 32)))
