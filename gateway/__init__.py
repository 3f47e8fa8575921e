"""The edge: authenticates callers, limits them, and forwards to the owning service."""
