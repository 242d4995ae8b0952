"""Serial transport: a reconnecting asyncio serial link and pty pairs for simulators."""
