"""Journeys: event-triggered, personalised journeys per owner, with durable timers, messages
through pluggable senders, contact guard rails, recall campaigns and measurement."""
