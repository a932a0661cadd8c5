"""The ``brightline`` command line: a thin adapter over the core services."""
