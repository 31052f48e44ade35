"""A support mailbox: IMAP to read, SMTP to answer (stdlib `imaplib`, `smtplib` and `email`)."""
