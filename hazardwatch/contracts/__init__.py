"""The one wire schema shared by ingest, streams and alerting."""
