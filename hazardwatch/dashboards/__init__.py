"""Monitoring-center dashboards for Grafana, generated with grafana-foundation-sdk."""
