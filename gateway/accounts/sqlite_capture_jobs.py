"""Capture jobs in the account store's SQLite file (``SqliteAccountStore.capture_jobs``).

Every check that must hold across worker processes runs inside one write transaction (SQLite's write lock):
the depth caps with the insert in ``add``, the pick and the lease in ``claim``, the lease holder with the end
of a job in ``complete``/``fail``/``renew``. The sealed auth secrets are set to NULL by the statement that ends
the job.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

from gateway.accounts.capture_jobs import INTERRUPTED, INTERRUPTED_MESSAGE, CaptureJob, JobResult, QueueStats

if TYPE_CHECKING:
    from gateway.accounts.sqlite import SqliteAccountStore


def _job(row: sqlite3.Row) -> CaptureJob:
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


class SqliteCaptureJobStore:
    def __init__(self, store: SqliteAccountStore) -> None:
        self._store = store

    def add(self, job: CaptureJob, *, max_queued_workspace: int, max_queued_total: int) -> bool:
        try:
            with self._store.transaction() as db:
                unfinished = "SELECT COUNT(*) FROM capture_jobs WHERE status IN ('queued', 'processing')"
                if int(db.execute(unfinished).fetchone()[0]) >= max_queued_total:
                    return False
                mine = int(db.execute(f"{unfinished} AND namespace = ?", (job.namespace,)).fetchone()[0])
                if mine >= max_queued_workspace:
                    return False
                db.execute(
                    "INSERT INTO capture_jobs (job_id, namespace, url, spec, created_at, status, auth_sealed, attempts)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (job.job_id, job.namespace, job.url, job.spec, job.created_at, job.status, job.auth_sealed, 0),
                )
                return True
        except sqlite3.IntegrityError:
            raise ValueError("a capture job with that id is stored already") from None

    def get(self, job_id: str) -> CaptureJob | None:
        rows = self._store.query("SELECT * FROM capture_jobs WHERE job_id = ?", (job_id,))
        return _job(rows[0]) if rows else None

    def list_jobs(self, namespace: str, *, limit: int, before: tuple[float, str] | None = None) -> list[CaptureJob]:
        sql = "SELECT * FROM capture_jobs WHERE namespace = ?"
        params: list[object] = [namespace]
        if before is not None:
            sql += " AND (created_at < ? OR (created_at = ? AND job_id < ?))"
            params += [before[0], before[0], before[1]]
        sql += " ORDER BY created_at DESC, job_id DESC LIMIT ?"
        params.append(limit)
        return [_job(row) for row in self._store.query(sql, tuple(params))]

    def claim(self, worker: str, *, now: float, lease: float, max_attempts: int) -> CaptureJob | None:
        # Idle workers ask often: a read first, so that an empty queue never takes the file's write lock.
        if not self._store.query("SELECT 1 FROM capture_jobs WHERE status IN ('queued', 'processing') LIMIT 1"):
            return None
        with self._store.transaction() as db:
            db.execute(
                "UPDATE capture_jobs SET status = 'failed', error_code = ?, error_message = ?,"
                " auth_sealed = NULL, lease_until = NULL, finished_at = ?"
                " WHERE status = 'processing' AND lease_until < ? AND attempts >= ?",
                (INTERRUPTED, INTERRUPTED_MESSAGE, now, now, max_attempts),
            )
            row = db.execute(
                "SELECT job_id FROM capture_jobs WHERE status = 'queued'"
                " OR (status = 'processing' AND lease_until < ? AND attempts < ?)"
                " ORDER BY created_at, job_id LIMIT 1",
                (now, max_attempts),
            ).fetchone()
            if row is None:
                return None
            db.execute(
                "UPDATE capture_jobs SET status = 'processing', worker = ?, lease_until = ?, attempts = attempts + 1,"
                " started_at = COALESCE(started_at, ?) WHERE job_id = ?",
                (worker, now + lease, now, row["job_id"]),
            )
            claimed = db.execute("SELECT * FROM capture_jobs WHERE job_id = ?", (row["job_id"],)).fetchone()
            return _job(claimed)

    def renew(self, job_id: str, worker: str, until: float) -> bool:
        with self._store.transaction() as db:
            cursor = db.execute(
                "UPDATE capture_jobs SET lease_until = ? WHERE job_id = ? AND worker = ? AND status = 'processing'",
                (until, job_id, worker),
            )
            return cursor.rowcount == 1

    def complete(
        self, job_id: str, worker: str, result: JobResult, at: float, *, webhook_due_at: float | None = None
    ) -> bool:
        with self._store.transaction() as db:
            cursor = db.execute(
                "UPDATE capture_jobs SET status = 'completed', auth_sealed = NULL, lease_until = NULL, finished_at = ?,"
                " webhook_due_at = ?, result_key = ?, result_format = ?,"
                " result_content_type = ?, result_bytes = ?, result_width = ?, result_height = ?,"
                " result_expires_at = ? WHERE job_id = ? AND worker = ? AND status = 'processing'",
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
            return cursor.rowcount == 1

    def fail(
        self, job_id: str, worker: str, code: str, message: str, at: float, *, webhook_due_at: float | None = None
    ) -> bool:
        with self._store.transaction() as db:
            cursor = db.execute(
                "UPDATE capture_jobs SET status = 'failed', error_code = ?, error_message = ?,"
                " auth_sealed = NULL, lease_until = NULL, finished_at = ?, webhook_due_at = ?"
                " WHERE job_id = ? AND worker = ? AND status = 'processing'",
                (code, message, at, webhook_due_at, job_id, worker),
            )
            return cursor.rowcount == 1

    def claim_webhook(self, *, now: float, lease: float) -> CaptureJob | None:
        due = "SELECT job_id FROM capture_jobs WHERE webhook_due_at <= ? ORDER BY webhook_due_at, job_id LIMIT 1"
        # As ``claim``: a read first, so that no webhook due never takes the file's write lock.
        if not self._store.query(due, (now,)):
            return None
        with self._store.transaction() as db:
            row = db.execute(due, (now,)).fetchone()
            if row is None:
                return None
            db.execute(
                "UPDATE capture_jobs SET webhook_due_at = ?, webhook_attempts = webhook_attempts + 1 WHERE job_id = ?",
                (now + lease, row["job_id"]),
            )
            return _job(db.execute("SELECT * FROM capture_jobs WHERE job_id = ?", (row["job_id"],)).fetchone())

    def webhook_next(self, job_id: str, attempts: int, due_at: float | None) -> bool:
        with self._store.transaction() as db:
            cursor = db.execute(
                "UPDATE capture_jobs SET webhook_due_at = ?"
                " WHERE job_id = ? AND webhook_attempts = ? AND webhook_due_at IS NOT NULL",
                (due_at, job_id, attempts),
            )
            return cursor.rowcount == 1

    def mark_downloaded(self, job_id: str, at: float) -> bool:
        with self._store.transaction() as db:
            cursor = db.execute(
                "UPDATE capture_jobs SET downloaded_at = ? WHERE job_id = ? AND downloaded_at IS NULL", (at, job_id)
            )
            return cursor.rowcount == 1

    def forget_result(self, job_id: str, at: float) -> JobResult | None:
        with self._store.transaction() as db:
            row = db.execute(
                "SELECT * FROM capture_jobs WHERE job_id = ? AND result_key IS NOT NULL AND result_deleted_at IS NULL",
                (job_id,),
            ).fetchone()
            if row is None:
                return None
            db.execute("UPDATE capture_jobs SET result_deleted_at = ? WHERE job_id = ?", (at, job_id))
            return _job(row).result

    def expired_results(self, now: float, limit: int) -> list[CaptureJob]:
        rows = self._store.query(
            "SELECT * FROM capture_jobs WHERE result_key IS NOT NULL AND result_deleted_at IS NULL"
            " AND result_expires_at <= ? ORDER BY result_expires_at LIMIT ?",
            (now, limit),
        )
        return [_job(row) for row in rows]

    def stats(self, *, now: float, worker_window: float) -> QueueStats:
        row = self._store.query(
            "SELECT SUM(status = 'queued'), SUM(status = 'processing'),"
            " MIN(CASE WHEN status = 'queued' THEN created_at END) FROM capture_jobs"
            " WHERE status IN ('queued', 'processing')"
        )[0]
        workers = self._store.query("SELECT COUNT(*) FROM capture_workers WHERE seen_at >= ?", (now - worker_window,))
        return QueueStats(int(row[0] or 0), int(row[1] or 0), row[2], int(workers[0][0]))

    def unfinished(self, namespace: str) -> int:
        rows = self._store.query(
            "SELECT COUNT(*) FROM capture_jobs WHERE namespace = ? AND status IN ('queued', 'processing')",
            (namespace,),
        )
        return int(rows[0][0])

    def forget(self, namespace: str) -> None:
        with self._store.transaction() as db:
            db.execute("DELETE FROM capture_jobs WHERE namespace = ?", (namespace,))
            db.execute("DELETE FROM capture_webhook_secrets WHERE namespace = ?", (namespace,))

    def heartbeat(self, worker: str, at: float) -> None:
        with self._store.transaction() as db:
            db.execute(
                "INSERT INTO capture_workers (worker, seen_at) VALUES (?, ?)"
                " ON CONFLICT (worker) DO UPDATE SET seen_at = excluded.seen_at",
                (worker, at),
            )

    def retire_worker(self, worker: str) -> None:
        with self._store.transaction() as db:
            db.execute("DELETE FROM capture_workers WHERE worker = ?", (worker,))

    def set_webhook_secret(self, namespace: str, sealed: str, at: float) -> None:
        with self._store.transaction() as db:
            db.execute(
                "INSERT INTO capture_webhook_secrets (namespace, secret_sealed, created_at) VALUES (?, ?, ?)"
                " ON CONFLICT (namespace) DO UPDATE SET secret_sealed = excluded.secret_sealed,"
                " created_at = excluded.created_at",
                (namespace, sealed, at),
            )

    def webhook_secret(self, namespace: str) -> str | None:
        rows = self._store.query("SELECT secret_sealed FROM capture_webhook_secrets WHERE namespace = ?", (namespace,))
        return str(rows[0][0]) if rows else None
