"""Faust workers: a thin shell around the pure engine (core.py holds all decisions)."""
