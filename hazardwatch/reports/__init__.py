"""Reports for people: the shift hand-over report (交接班报告)."""
