"""PostgreSQL: Django's backend, with commits whose outcome is found out when the
connection breaks during them (hatchet.postgresql.base)."""
