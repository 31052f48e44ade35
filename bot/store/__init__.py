"""Persistence: the tables, the database handle, claim rows, the outbox table and the migrations."""
