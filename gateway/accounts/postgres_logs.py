"""Keeps the PostgreSQL server's address and database name out of psycopg's own log lines.

psycopg and its pool log what goes wrong in their background work with the error or the connection itself as
an argument, and the text of either names the server (``error connecting in 'pool-1': connection to server at
"10.0.0.7", port 5432 failed: FATAL: database "accounts" does not exist``; a connection shows as
``<psycopg.Connection [IDLE] (host=10.0.0.7 database=accounts) at 0x...>``). ``ServerDetailFilter`` keeps
such a record, its level and its logger, and replaces each of those arguments by its kind, so the line above
becomes ``error connecting in 'pool-1': OperationalError``: psycopg's own fixed text, which names the pool
where psycopg's does, and the kind of error, never what the server said.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

__all__ = ["ServerDetailFilter", "hide_server_detail"]

# The loggers psycopg writes to directly (a logger's filters see only the records logged on it, not on its
# children): the connection's, the pool's, and the pool's scheduler's.
LOGGERS = ("psycopg", "psycopg.pool", "psycopg_pool.sched")

# Arguments kept as they are: psycopg passes pool names, thread names, error class names and numbers this way.
_PLAIN = (str, int, float, type(None))


def _kind(value: object) -> object:
    return value if isinstance(value, _PLAIN) else type(value).__name__


class ServerDetailFilter(logging.Filter):
    """Lets every record through with each argument that is not a plain name or number replaced by its kind,
    and a traceback replaced by its error's kind."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not isinstance(record.msg, str):
            record.msg = str(_kind(record.msg))
        if isinstance(record.args, Mapping):
            record.args = {name: _kind(value) for name, value in record.args.items()}
        elif record.args:
            record.args = tuple(_kind(value) for value in record.args)
        if record.exc_info:
            error = record.exc_info[1]
            if error is not None:
                # A class name has no "%": appended to the format, it formats as itself.
                record.msg = f"{record.msg} ({type(error).__name__})"
            record.exc_info = None
            record.exc_text = None
        return True


def hide_server_detail() -> None:
    """Install ``ServerDetailFilter`` on psycopg's loggers, once per process however many stores open."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(installed, ServerDetailFilter) for installed in logger.filters):
            logger.addFilter(ServerDetailFilter())
