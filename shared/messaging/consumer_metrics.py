"""What every event consumer reports to Prometheus: deliveries by outcome, and how far
behind each durable consumer is (sampled from the broker)."""

from prometheus_client import Counter, Gauge

EVENTS_HANDLED = Counter(
    "cem_events_handled_total", "Event deliveries by outcome", ["consumer", "outcome"]
)

CONSUMER_LAG = Gauge(
    "cem_consumer_lag", "Events in the stream not yet delivered to the consumer", ["consumer"]
)
CONSUMER_ACK_PENDING = Gauge(
    "cem_consumer_ack_pending", "Events delivered and not yet acknowledged", ["consumer"]
)
CONSUMER_ACK_PENDING_LIMIT = Gauge(
    "cem_consumer_ack_pending_limit",
    "The most unacknowledged events the broker delivers; pending at the limit is a stall",
    ["consumer"],
)
CONSUMER_REDELIVERED = Gauge(
    "cem_consumer_redelivered", "Delivered more than once and not yet acknowledged", ["consumer"]
)
