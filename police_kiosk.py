"""The `police-kiosk` command: one entry point, subcommands for each program.

This module is the composition root: it is the only place that knows every program, and it imports
each one lazily so that `police-kiosk edge` never loads Qt and `police-kiosk hub` never loads the edge.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence

_COMMANDS: dict[str, tuple[str, str]] = {
    "edge": ("edge.cli", "run the station's edge daemon"),
    "check-config": ("edge.cli", "validate a station configuration file"),
    "hub": ("hub.cli", "run the central hub (or `hub export`, `hub command`, `hub keygen`)"),
    "pki": ("hub.pki", "central's CA: `pki init`, `pki server`, `pki station ID`, `pki hub`"),
    "demo": ("edge.sim.demo", "run a whole simulated station on this machine"),
    "sim": ("edge.sim.source", "simulators: `sim events`, `sim school`, `sim modbus`"),
    "client": ("edge.cli", "call the daemon's local API from the shell"),
    "console": ("ui.console.app", "run the station crew's alarm console (--socket PATH, --fullscreen)"),
    "kiosk": ("ui.kiosk.app", "run the resident self-service touchscreen (--socket PATH)"),
    "vision": ("edge.vision.cli", "`vision read IMAGE...`, `vision run SOURCE`: check plates and cameras"),
}


def _usage() -> str:
    lines = ["usage: police-kiosk COMMAND [ARGS...]", "", "commands:"]
    lines += [f"  {name:<14}{help_}" for name, (_, help_) in _COMMANDS.items()]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in {"-h", "--help"}:
        print(_usage())
        return 0 if args else 2
    name, rest = args[0], args[1:]
    if name not in _COMMANDS:
        print(f"police-kiosk: unknown command {name!r}\n\n{_usage()}", file=sys.stderr)
        return 2
    import importlib

    module = importlib.import_module(_COMMANDS[name][0])
    entry: Callable[[str, list[str]], int] = module.command
    return entry(name, rest)


if __name__ == "__main__":
    sys.exit(main())
