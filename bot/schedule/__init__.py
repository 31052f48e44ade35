"""Timed work: the scheduler, replica leadership, the job list, SLA reminders and the digest."""
