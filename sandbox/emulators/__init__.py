"""Loopback emulators of Slack, X API v2 and Graph. A leaf: imports nothing from Parley."""
