"""Local real stack: Mosquitto, Kafka (KRaft) and InfluxDB as processes bound to 127.0.0.1."""
