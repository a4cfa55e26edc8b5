"""Capture jobs in the PostgreSQL account database (``PostgresAccountStore.capture_jobs``).

The checks that must hold across nodes: ``add`` takes a transaction-level advisory lock before it counts the
unfinished jobs, so two nodes adding at once cannot both pass a depth cap; ``claim`` picks the oldest due job
with ``FOR UPDATE SKIP LOCKED``, so two workers never take the same job and never wait on each other's pick;
the end of a job (``complete``, ``fail``, ``renew``) is one conditional ``UPDATE`` on the lease holder;
``claim_webhook`` picks the earliest due webhook with ``FOR UPDATE SKIP LOCKED`` as ``claim`` does. The
sealed auth secrets are set to NULL by the statement that ends the job.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from psycopg import errors
from psycopg.rows import DictRow

from gateway.accounts.capture_jobs import INTERRUPTED, INTERRUPTED_MESSAGE, CaptureJob, JobResult, QueueStats

if TYPE_CHECKING:
    from gateway.accounts.postgres import PostgresAccountStore

# pg_advisory_xact_lock's key serialising the depth check and insert of new jobs.
_ADD_LOCK = 0x1A6A7F


def _job(row: DictRow) -> CaptureJob:
    result = None
    if row["result_key"] is not None:
        result = JobResult(
            key=row["result_key"],
            format=row["result_format"],
            content_type=row["result_content_type"],
            bytes=int(row["result_bytes"]),
            width=int(row["result_width"]),
            height=int(row["result_height"]),
            expires_at=float(row["result_expires_at"]),
        )
    return CaptureJob(
        job_id=row["job_id"],
        namespace=row["namespace"],
        url=row["url"],
        spec=row["spec"],
        created_at=float(row["created_at"]),
        status=row["status"],
        auth_sealed=row["auth_sealed"],
        attempts=int(row["attempts"]),
        worker=row["worker"],
        lease_until=row["lease_until"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        error_code=row["error_code"],
        error_message=row["error_message"],
        result=result,
        downloaded_at=row["downloaded_at"],
        result_deleted_at=row["result_deleted_at"],
        webhook_due_at=row["webhook_due_at"],
        webhook_attempts=int(row["webhook_attempts"]),
    )


class PostgresCaptureJobStore:
    def __init__(self, store: PostgresAccountStore) -> None:
        self._store = store

    def add(self, job: CaptureJob, *, max_queued_workspace: int, max_queued_total: int) -> bool:
        unfinished = "SELECT COUNT(*) AS n FROM capture_jobs WHERE status IN ('queued', 'processing')"
        try:
            with self._store.transaction() as db:
                db.execute("SELECT pg_advisory_xact_lock(%s)", (_ADD_LOCK,))
                total = db.execute(unfinished).fetchone()
                if total is None or int(total["n"]) >= max_queued_total:
                    return False
                mine = db.execute(f"{unfinished} AND namespace = %s", (job.namespace,)).fetchone()
                if mine is None or int(mine["n"]) >= max_queued_workspace:
                    return False
                db.execute(
                    "INSERT INTO capture_jobs (job_id, namespace, url, spec, created_at, status, auth_sealed, attempts)"
                    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                    (job.job_id, job.namespace, job.url, job.spec, job.created_at, job.status, job.auth_sealed, 0),
                )
                return True
        except (errors.UniqueViolation, errors.ForeignKeyViolation):
            raise ValueError("a capture job with that id is stored already") from None

    def get(self, job_id: str) -> CaptureJob | None:
        rows = self._store.query("SELECT * FROM capture_jobs WHERE job_id = %s", (job_id,))
        return _job(rows[0]) if rows else None

    def list_jobs(self, namespace: str, *, limit: int, before: tuple[float, str] | None = None) -> list[CaptureJob]:
        sql = "SELECT * FROM capture_jobs WHERE namespace = %s"
        params: list[object] = [namespace]
        if before is not None:
            sql += " AND (created_at < %s OR (created_at = %s AND job_id < %s))"
            params += [before[0], before[0], before[1]]
        sql += " ORDER BY created_at DESC, job_id DESC LIMIT %s"
        params.append(limit)
        return [_job(row) for row in self._store.query(sql, tuple(params))]

    def claim(self, worker: str, *, now: float, lease: float, max_attempts: int) -> CaptureJob | None:
        with self._store.transaction() as db:
            db.execute(
                "UPDATE capture_jobs SET status = 'failed', error_code = %s, error_message = %s,"
                " auth_sealed = NULL, lease_until = NULL, finished_at = %s"
                " WHERE status = 'processing' AND lease_until < %s AND attempts >= %s",
                (INTERRUPTED, INTERRUPTED_MESSAGE, now, now, max_attempts),
            )
            row = db.execute(
                "SELECT job_id FROM capture_jobs WHERE status = 'queued'"
                " OR (status = 'processing' AND lease_until < %s AND attempts < %s)"
                " ORDER BY created_at, job_id LIMIT 1 FOR UPDATE SKIP LOCKED",
                (now, max_attempts),
            ).fetchone()
            if row is None:
                return None
            claimed = db.execute(
                "UPDATE capture_jobs SET status = 'processing', worker = %s, lease_until = %s,"
                " attempts = attempts + 1, started_at = COALESCE(started_at, %s) WHERE job_id = %s RETURNING *",
                (worker, now + lease, now, row["job_id"]),
            ).fetchone()
        return _job(claimed) if claimed else None

    def renew(self, job_id: str, worker: str, until: float) -> bool:
        changed = self._store.execute(
            "UPDATE capture_jobs SET lease_until = %s WHERE job_id = %s AND worker = %s AND status = 'processing'",
            (until, job_id, worker),
        )
        return changed == 1

    def complete(
        self, job_id: str, worker: str, result: JobResult, at: float, *, webhook_due_at: float | None = None
    ) -> bool:
        changed = self._store.execute(
            "UPDATE capture_jobs SET status = 'completed', auth_sealed = NULL, lease_until = NULL, finished_at = %s,"
            " webhook_due_at = %s, result_key = %s, result_format = %s,"
            " result_content_type = %s, result_bytes = %s, result_width = %s, result_height = %s,"
            " result_expires_at = %s WHERE job_id = %s AND worker = %s AND status = 'processing'",
            (
                at,
                webhook_due_at,
                result.key,
                result.format,
                result.content_type,
                result.bytes,
                result.width,
                result.height,
                result.expires_at,
                job_id,
                worker,
            ),
        )
        return changed == 1

    def fail(
        self, job_id: str, worker: str, code: str, message: str, at: float, *, webhook_due_at: float | None = None
    ) -> bool:
        changed = self._store.execute(
            "UPDATE capture_jobs SET status = 'failed', error_code = %s, error_message = %s,"
            " auth_sealed = NULL, lease_until = NULL, finished_at = %s, webhook_due_at = %s"
            " WHERE job_id = %s AND worker = %s AND status = 'processing'",
            (code, message, at, webhook_due_at, job_id, worker),
        )
        return changed == 1

    def claim_webhook(self, *, now: float, lease: float) -> CaptureJob | None:
        with self._store.transaction() as db:
            claimed = db.execute(
                "UPDATE capture_jobs SET webhook_due_at = %s, webhook_attempts = webhook_attempts + 1"
                " WHERE job_id = (SELECT job_id FROM capture_jobs WHERE webhook_due_at <= %s"
                " ORDER BY webhook_due_at, job_id LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING *",
                (now + lease, now),
            ).fetchone()
        return _job(claimed) if claimed else None

    def webhook_next(self, job_id: str, attempts: int, due_at: float | None) -> bool:
        changed = self._store.execute(
            "UPDATE capture_jobs SET webhook_due_at = %s"
            " WHERE job_id = %s AND webhook_attempts = %s AND webhook_due_at IS NOT NULL",
            (due_at, job_id, attempts),
        )
        return changed == 1

    def mark_downloaded(self, job_id: str, at: float) -> bool:
        changed = self._store.execute(
            "UPDATE capture_jobs SET downloaded_at = %s WHERE job_id = %s AND downloaded_at IS NULL", (at, job_id)
        )
        return changed == 1

    def forget_result(self, job_id: str, at: float) -> JobResult | None:
        with self._store.transaction() as db:
            row = db.execute(
                "SELECT * FROM capture_jobs WHERE job_id = %s AND result_key IS NOT NULL"
                " AND result_deleted_at IS NULL FOR UPDATE",
                (job_id,),
            ).fetchone()
            if row is None:
                return None
            db.execute("UPDATE capture_jobs SET result_deleted_at = %s WHERE job_id = %s", (at, job_id))
        return _job(row).result

    def expired_results(self, now: float, limit: int) -> list[CaptureJob]:
        rows = self._store.query(
            "SELECT * FROM capture_jobs WHERE result_key IS NOT NULL AND result_deleted_at IS NULL"
            " AND result_expires_at <= %s ORDER BY result_expires_at LIMIT %s",
            (now, limit),
        )
        return [_job(row) for row in rows]

    def stats(self, *, now: float, worker_window: float) -> QueueStats:
        row = self._store.query(
            "SELECT COUNT(*) FILTER (WHERE status = 'queued') AS queued,"
            " COUNT(*) FILTER (WHERE status = 'processing') AS processing,"
            " MIN(created_at) FILTER (WHERE status = 'queued') AS oldest"
            " FROM capture_jobs WHERE status IN ('queued', 'processing')"
        )[0]
        workers = self._store.query(
            "SELECT COUNT(*) AS n FROM capture_workers WHERE seen_at >= %s", (now - worker_window,)
        )
        return QueueStats(int(row["queued"]), int(row["processing"]), row["oldest"], int(workers[0]["n"]))

    def unfinished(self, namespace: str) -> int:
        rows = self._store.query(
            "SELECT COUNT(*) AS n FROM capture_jobs WHERE namespace = %s AND status IN ('queued', 'processing')",
            (namespace,),
        )
        return int(rows[0]["n"])

    def forget(self, namespace: str) -> None:
        self._store.execute("DELETE FROM capture_jobs WHERE namespace = %s", (namespace,))
        self._store.execute("DELETE FROM capture_webhook_secrets WHERE namespace = %s", (namespace,))

    def heartbeat(self, worker: str, at: float) -> None:
        self._store.execute(
            "INSERT INTO capture_workers (worker, seen_at) VALUES (%s, %s)"
            " ON CONFLICT (worker) DO UPDATE SET seen_at = excluded.seen_at",
            (worker, at),
        )

    def retire_worker(self, worker: str) -> None:
        self._store.execute("DELETE FROM capture_workers WHERE worker = %s", (worker,))

    def set_webhook_secret(self, namespace: str, sealed: str, at: float) -> None:
        self._store.execute(
            "INSERT INTO capture_webhook_secrets (namespace, secret_sealed, created_at) VALUES (%s, %s, %s)"
            " ON CONFLICT (namespace) DO UPDATE SET secret_sealed = excluded.secret_sealed,"
            " created_at = excluded.created_at",
            (namespace, sealed, at),
        )

    def webhook_secret(self, namespace: str) -> str | None:
        rows = self._store.query("SELECT secret_sealed FROM capture_webhook_secrets WHERE namespace = %s", (namespace,))
        return str(rows[0]["secret_sealed"]) if rows else None
