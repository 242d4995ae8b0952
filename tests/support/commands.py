"""Central's command keys for tests: a real Ed25519 pair, written as the PEM files the tools use."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edge.wire import messages as wire
from edge.wire.commands import CommandSigner, generate_key_pair, load_private_key

__all__ = ["CentralKeys", "central_keys", "signed"]


@dataclass(frozen=True, slots=True)
class CentralKeys:
    private_pem: bytes
    public_pem: bytes
    signer: CommandSigner

    def write(self, directory: Path, name: str = "central") -> tuple[Path, Path]:
        """DIRECTORY/NAME.key (private, 0600) and DIRECTORY/NAME.pub; returns both paths."""
        directory.mkdir(parents=True, exist_ok=True)
        private, public = directory / f"{name}.key", directory / f"{name}.pub"
        private.write_bytes(self.private_pem)
        private.chmod(0o600)
        public.write_bytes(self.public_pem)
        return private, public


def central_keys() -> CentralKeys:
    private, public = generate_key_pair()
    return CentralKeys(private, public, CommandSigner(load_private_key(private)))


def signed(
    keys: CentralKeys | None,
    name: str,
    args: dict[str, Any],
    *,
    targets: list[str] | None = None,
    lifetime: float = 3600.0,
) -> wire.Command:
    """A command signed by KEYS (None: unsigned, with the same fields filled in)."""
    if keys is None:
        return wire.Command(
            id=wire.new_event_id(),
            name=name,
            args=args,
            targets=targets or ["all"],
            issued_at=wire.utc_now_iso(),
            expires_at=wire.utc_now_iso(time.time() + lifetime),
        )
    return keys.signer.command(name, args, targets=targets or ["all"], lifetime=lifetime)
