"""KPI portal: measures stored with each version, roll-ups and the KPI view."""
