"""The `cem` command: starts the platform on one machine and administers it."""
