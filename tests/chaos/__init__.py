"""The fault suite: mixed workflows through a live deployment while its processes are
killed and its services restarted, then an audit of what was lost, stuck or repeated
(`python -m tests.chaos`, `make chaos`; a short form runs in `make test`)."""
