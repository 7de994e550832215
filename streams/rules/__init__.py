"""The pure rule engine: no broker, no clock, no randomness; event time is passed in."""
