"""The mail-server fixtures (tests/connectors/email/mail_fixtures.py) for this folder's tests."""

from tests.connectors.email.mail_fixtures import connector, dovecot, smtp  # noqa: F401  (fixtures)
