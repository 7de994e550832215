"""Routing, escalation and notification of warnings (not built yet)."""
