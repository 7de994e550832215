"""The alerting service's web stack: the API, the duty console and their limits (ASGI)."""
