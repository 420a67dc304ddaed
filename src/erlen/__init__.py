"""erlen: a Flask-compatible web framework with a compiled context-local core."""
