"""Sinks: batched writes tied to offset commits."""
