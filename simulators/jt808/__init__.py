"""Simulated JT/T 808 terminals: message builders and an asyncio TCP client."""
