"""Notification channels: each formats, sends and classifies failures; retries are elsewhere."""
