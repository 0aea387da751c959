"""Alerts: rules on a dataset's measure, their evaluation, history and notifications."""
