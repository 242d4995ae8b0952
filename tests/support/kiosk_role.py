"""A client of the daemon in the kiosk role, as the touchscreen is on a station: another user.

The daemon gives a connection its role from the kernel's peer credentials (`[api] kiosk_users`), so a
kiosk client must connect as another uid than the test (which is root, and admin on the API). This runs
`python -m tests.support.kiosk_role SOCKET METHOD PARAMS` as a child: it loads everything as root, then
drops to `KIOSK_UID` (keeping group 0, which the 0660 socket and a 0750 directory let in), connects
through `edge.api.client` and prints the answer (or the error) as JSON.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import msgspec

from edge.api.client import ApiError, EdgeClient
from edge.wire.api.kiosk import KIOSK_CALL_OFFICER, KIOSK_EMERGENCY, KIOSK_SUBMIT, KioskSubmit
from tests.support.paths import ROOT

__all__ = ["KIOSK_UID", "KioskCallError", "call_as_kiosk", "share_with_kiosk"]

KIOSK_UID = 65534  # nobody: any uid that is not the test's
_METHODS = {m.name: m for m in (KIOSK_CALL_OFFICER, KIOSK_EMERGENCY, KIOSK_SUBMIT)}


class KioskCallError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def share_with_kiosk(directory: Path) -> Path:
    """Let the kiosk user (group 0) reach a daemon socket in `directory` (and the way there)."""
    directory.chmod(0o750)
    return directory


def call_as_kiosk(socket: Path, method: str, params: dict[str, Any] | None = None) -> Any:
    """One call as the kiosk user; raises KioskCallError with the daemon's error."""
    argv = [sys.executable, "-m", "tests.support.kiosk_role", str(socket), method, json.dumps(params or {})]
    done = subprocess.run(argv, capture_output=True, timeout=60, check=False, cwd=ROOT)
    if done.returncode != 0:
        raise AssertionError(f"the kiosk client failed ({done.returncode}):\n{done.stderr.decode(errors='replace')}")
    answer = json.loads(done.stdout)
    if "error" in answer:
        raise KioskCallError(int(answer["error"]["code"]), str(answer["error"]["message"]))
    return answer["result"]


async def _call(socket: str, method: str, params: dict[str, Any]) -> dict[str, Any]:
    try:
        async with EdgeClient(socket, timeout=30) as client:
            if method in _METHODS:  # the touchscreen's typed call
                result: Any = await client.kiosk_submit(msgspec.convert(params, KioskSubmit), _METHODS[method])
            else:
                result = await client.call(method, params)
    except ApiError as exc:
        return {"error": {"code": exc.code, "message": exc.message}}
    return {"result": msgspec.to_builtins(result)}


def main() -> None:
    socket, method, raw = sys.argv[1:4]
    loop = asyncio.new_event_loop()  # made while still root: nothing is loaded from disk after the drop
    os.setgroups([])
    os.setresuid(KIOSK_UID, KIOSK_UID, KIOSK_UID)
    try:
        answer = loop.run_until_complete(_call(socket, method, json.loads(raw)))
    finally:
        loop.close()
    sys.stdout.write(json.dumps(answer, ensure_ascii=False))


if __name__ == "__main__":
    main()
