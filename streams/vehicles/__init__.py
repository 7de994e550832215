"""两客一危 vehicle rules: speed, driving time, geofences, JT/T 808 bits, video AI, offline."""
