"""X (API v2 through tweepy): mentions, searches, DMs, replies."""
