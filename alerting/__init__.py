"""Routing, escalation and notification of warnings."""
