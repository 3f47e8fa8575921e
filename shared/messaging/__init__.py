"""Events between services: envelope, transactional outbox, relay and idempotent consumers."""
