"""Feedback's use cases: each takes the request's session, never commits, never speaks HTTP."""
