"""Tickets: cases of every kind, chased to resolution under SLAs, routing and escalation."""
