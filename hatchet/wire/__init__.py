"""What the SDK and the server agree on, importable by both: plain Python, no Django and
no server module, so that the SDK may import it."""
