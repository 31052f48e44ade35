"""Slack output: the outbox worker, every Slack call it makes, and the user/group/DM directory."""
