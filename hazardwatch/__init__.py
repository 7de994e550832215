"""HazardWatch: command line and local real stack."""
