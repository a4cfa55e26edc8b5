"""psycopg's own log lines keep their level and text but lose what would name the PostgreSQL server."""

from __future__ import annotations

import logging

import psycopg
import pytest

from gateway.accounts.postgres_logs import LOGGERS, ServerDetailFilter, hide_server_detail

# What libpq says when the database is gone: the server's host, port and the database's name.
REFUSAL = 'connection to server at "10.0.0.7", port 5432 failed: FATAL:  database "billing_db" does not exist'
DETAIL = ("10.0.0.7", "5432", "billing_db")


class Connection:
    """Shows itself as a psycopg connection does."""

    def __repr__(self) -> str:
        return "<psycopg.Connection [IDLE] (host=10.0.0.7 port=5432 database=billing_db) at 0x7f0>"


@pytest.fixture
def pool_log(caplog: pytest.LogCaptureFixture) -> logging.Logger:
    hide_server_detail()
    caplog.set_level(logging.INFO, logger="psycopg.pool")  # psycopg sets its loggers to WARNING
    return logging.getLogger("psycopg.pool")


def only(caplog: pytest.LogCaptureFixture) -> logging.LogRecord:
    (record,) = caplog.records
    return record


def test_a_reconnect_warning_names_the_pool_and_the_kind_of_error_only(
    pool_log: logging.Logger, caplog: pytest.LogCaptureFixture
) -> None:
    pool_log.warning("error connecting in %r: %s", "accounts", psycopg.OperationalError(REFUSAL))
    record = only(caplog)
    assert record.getMessage() == "error connecting in 'accounts': OperationalError"
    assert (record.name, record.levelno) == ("psycopg.pool", logging.WARNING)
    assert not [name for name in DETAIL if name in caplog.text]


def test_a_connection_in_a_line_shows_as_its_kind(pool_log: logging.Logger, caplog: pytest.LogCaptureFixture) -> None:
    pool_log.warning("discarding broken connection: %s", Connection())
    assert only(caplog).getMessage() == "discarding broken connection: Connection"


def test_a_traceback_gives_way_to_the_kind_of_its_error(
    pool_log: logging.Logger, caplog: pytest.LogCaptureFixture
) -> None:
    try:
        raise psycopg.OperationalError(REFUSAL)
    except psycopg.OperationalError:
        pool_log.exception("task run failed")
    record = only(caplog)
    assert record.getMessage() == "task run failed (OperationalError)" and record.exc_info is None
    assert not [name for name in DETAIL if name in caplog.text]


def test_a_record_of_an_error_itself_becomes_its_kind(
    pool_log: logging.Logger, caplog: pytest.LogCaptureFixture
) -> None:
    pool_log.warning(psycopg.OperationalError(REFUSAL))
    assert only(caplog).getMessage() == "OperationalError"


def test_names_and_numbers_pass_as_they_are(pool_log: logging.Logger, caplog: pytest.LogCaptureFixture) -> None:
    pool_log.info("growing pool %r to %s", "accounts", 2)
    pool_log.info("pool %(name)r is ready to use", {"name": "accounts"})
    assert [record.getMessage() for record in caplog.records] == [
        "growing pool 'accounts' to 2",
        "pool 'accounts' is ready to use",
    ]


def test_every_psycopg_logger_gets_the_filter_once_however_many_stores_open() -> None:
    hide_server_detail()
    hide_server_detail()
    for name in LOGGERS:
        installed = [f for f in logging.getLogger(name).filters if isinstance(f, ServerDetailFilter)]
        assert len(installed) == 1
