"""Profile's use cases. They run inside the caller's transaction and never commit."""
