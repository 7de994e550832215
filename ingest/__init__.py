"""MQTT → Kafka bridge with validation and a dead-letter topic."""
