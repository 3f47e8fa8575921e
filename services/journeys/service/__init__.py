"""Journeys' use cases; each takes the caller's session and never commits."""
