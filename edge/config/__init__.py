"""Station configuration: strict pydantic models of every section, loading and errors with locations."""
