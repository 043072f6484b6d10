"""Pieces for running a live Hatchet on this machine from outside it: a free loopback
port and a fresh PostgreSQL database. Used by the end-to-end tests and the benchmarks."""

import socket

import psycopg


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def sibling_database_url(url: str, name: str) -> str:
    """The URL of database `name` on the server that `url` points at."""
    return f"{url.rsplit('/', 1)[0]}/{name}"


def create_fresh_database(url: str) -> None:
    """(Re)create the database that `url` names, empty."""
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(sibling_database_url(url, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(sibling_database_url(url, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
