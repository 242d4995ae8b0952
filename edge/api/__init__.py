"""The daemon's local API: the JSON-RPC server on a Unix socket and the one typed client."""
