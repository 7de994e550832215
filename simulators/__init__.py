"""Device simulators and drills."""
