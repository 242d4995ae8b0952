"""The station's gate for central's commands: every command is verified here before any handler sees it.

One `CommandVerifier` (edge/wire/commands.py) per daemon, so the key in force and the counters are the
same for every component. Its state (a rotated key, the highest counter per stream) is kept in
DATA_DIR/command-trust.json, written atomically after each accepted command, so a restart does not
reopen the door to a replay. A refusal is logged once per command id (retained commands come back on
every reconnect), counted per reason (in telemetry) and shown as a warning fault.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from edge.config.station import CommandsSection
from edge.system.faults import FaultBoard
from edge.system.files import write_atomic
from edge.wire.commands import ROTATE_KEY, CommandVerifier, Duplicate, load_public_key
from edge.wire.messages import Command

__all__ = ["CommandGate"]

log = logging.getLogger(__name__)
_MAX_LOGGED_IDS = 1000


class CommandGate:
    def __init__(self, config: CommandsSection, *, station: str, state_file: Path, faults: FaultBoard) -> None:
        self._state_file = state_file
        self._faults = faults
        self._logged: set[str] = set()
        self._lock = asyncio.Lock()
        key = None
        if config.public_key_file is not None:
            key = load_public_key(config.public_key_file.read_bytes())  # checked by the config already
        try:
            state = state_file.read_bytes()
        except FileNotFoundError:
            state = b""
        self.verifier = CommandVerifier(
            station, key, state=state, max_lifetime=config.max_lifetime, clock_skew=config.clock_skew
        )
        if key is None:
            log.warning("no commands.public_key_file: every command from central will be refused")

    def counts(self) -> dict[str, int]:
        """Accepted and refused (per reason) commands since start, for telemetry."""
        return {"accepted": self.verifier.accepted, **{f"refused_{k}": v for k, v in self.verifier.refused.items()}}

    async def admit(self, cmd: Command) -> bool:
        """True when the command is authentic, meant for us, current and new: hand it to its handler."""
        async with self._lock:  # one check-and-store at a time: counters advance in order
            verdict = self.verifier.check(cmd)
            if verdict is None:
                await asyncio.to_thread(write_atomic, self._state_file, self.verifier.state_bytes())
                if cmd.name == ROTATE_KEY:
                    log.warning("central rotated the command key: now trusting key %s", self.verifier.key_id)
                return True
        if isinstance(verdict, Duplicate):
            return False
        if cmd.id not in self._logged and len(self._logged) < _MAX_LOGGED_IDS:
            self._logged.add(cmd.id)
            log.warning("refused command %s (%s): %s", cmd.name[:64], cmd.id[:64], verdict.value)
        self._faults.raise_fault(
            "commands", f"refused a command from central ({cmd.name[:64]}): {verdict.value}", severity="warning"
        )
        return False
