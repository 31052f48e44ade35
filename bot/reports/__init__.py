"""Figures for people: every KPI (figures), the audit log report, the SLA badge (service level)."""
