"""Rule engine and stream workers (not built yet)."""
