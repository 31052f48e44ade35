"""Outbound replies: who may send, the platform-neutral rules, the sender, case actions, templates."""
