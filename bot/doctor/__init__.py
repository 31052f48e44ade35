"""`parley check`: one line per verified fact about Slack, each network, and the database.

The result model is `connectors.checks.Check` (pure data); the probes live per target: Slack here
(`slack`), the database here (`database`), each network in its connector package (`Connector.doctor`).
`run` puts them together for the CLI, App Home and the watch job that warns managers.
"""
