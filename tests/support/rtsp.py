"""A real RTSP server on 127.0.0.1 streaming a generated clip, for the camera worker's network path.

The server is the GStreamer RTSP server (Debian `gir1.2-gst-rtsp-server-1.0`, driven from the system
Python with `python3-gi`); the clip is re-encoded by Debian's `ffmpeg` to H.264 (`libx264`) or H.265
(`libx265`) in MP4. Each client gets the clip from its start, in real time. `stop()` kills the server
(SIGKILL: a camera that loses power) and `start()` brings it back on the same port.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
from pathlib import Path

from tests.support.require import require

__all__ = ["RtspServer", "encode_clip", "free_port"]

SYSTEM_PYTHON = "/usr/bin/python3"

_SERVER = r"""
import sys
import gi
gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer

Gst.init(None)
port, clip, codec, mount = sys.argv[1:5]
server = GstRtspServer.RTSPServer()
server.set_address("127.0.0.1")
server.set_service(port)
factory = GstRtspServer.RTSPMediaFactory()
factory.set_launch(
    f"( filesrc location={clip} ! qtdemux ! {codec}parse ! rtp{codec}pay name=pay0 pt=96 config-interval=1 )"
)
factory.set_shared(False)
server.get_mount_points().add_factory(mount, factory)
if server.attach(None) == 0:
    sys.exit("cannot listen on port " + port)
print("ready", flush=True)
GLib.MainLoop().run()
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def encode_clip(source: Path, out: Path, *, codec: str) -> Path:
    """`source` re-encoded to `codec` ("h264" or "h265") in MP4, every 25th frame a key frame."""
    ffmpeg = shutil.which("ffmpeg")
    require(ffmpeg, "ffmpeg (Debian package ffmpeg)")
    assert ffmpeg is not None
    encoder = {"h264": "libx264", "h265": "libx265"}[codec]
    subprocess.run(
        [ffmpeg, "-hide_banner", "-loglevel", "error", "-y", "-i", str(source), "-c:v", encoder,
         "-preset", "ultrafast", "-g", "25", "-pix_fmt", "yuv420p", "-an", str(out)],
        check=True, capture_output=True,
    )  # fmt: skip
    return out


class RtspServer:
    def __init__(self, clip: Path, *, codec: str, port: int | None = None, mount: str = "/cam") -> None:
        require(Path(SYSTEM_PYTHON).is_file(), f"the system Python {SYSTEM_PYTHON} with python3-gi")
        self.clip = clip
        self.codec = codec
        self.port = port or free_port()
        self.mount = mount
        self._proc: subprocess.Popen[str] | None = None

    @property
    def url(self) -> str:
        return f"rtsp://127.0.0.1:{self.port}{self.mount}"

    def start(self) -> None:
        proc = subprocess.Popen(
            [SYSTEM_PYTHON, "-c", _SERVER, str(self.port), str(self.clip), self.codec, self.mount],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert proc.stdout is not None
        line = proc.stdout.readline()  # blocks until the server listens or the process ends
        if line.strip() != "ready":
            proc.kill()
            _, err = proc.communicate(timeout=10)
            require(False, f"the GStreamer RTSP server (gir1.2-gst-rtsp-server-1.0, python3-gi): {err.strip()}")
        self._proc = proc

    def stop(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.communicate(timeout=10)
            self._proc = None

    def __enter__(self) -> RtspServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
