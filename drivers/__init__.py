"""Device protocols: sans-IO codecs and thin transports. Imports nothing of ours."""
