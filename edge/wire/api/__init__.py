"""The local API contract: every method's params and result as msgspec Structs, its roles, and the topics."""
