"""GA/T 467 ID-card reader: SAM framing, card text decoding, asyncio reader and a simulator."""
