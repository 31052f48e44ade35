"""The inbound pipeline: poll a connector, route each message to a channel, store it once."""
