"""Rule engines (sites, vehicles), offline replay, stream workers and the InfluxDB sink."""
