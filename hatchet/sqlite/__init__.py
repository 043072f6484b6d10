"""The embedded database: Django's SQLite backend, with its write transactions taken
one at a time by the process (hatchet.sqlite.base)."""
