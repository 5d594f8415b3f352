"""The participant HTTP API (server, request guard) and its command-line client."""
