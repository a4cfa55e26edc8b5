"""Capture jobs in the DynamoDB account table (``DynamoAccountStore.capture_jobs``).

A job is ``JOB#<id>`` / ``JOB``: the whole record as JSON (``doc``) and a version ``ver``. Every change reads the
job, computes the next record and writes it only if ``ver`` is still the one read (a compare-and-set), so a
claim hands a job to one worker only and ``renew`` / ``complete`` / ``fail`` act only for the lease holder.
Index ``gsi1`` (``JOBS#<ns>``) lists a workspace's jobs, newest first.

Unfinished jobs also have an item in the ``QUEUE`` partition (sort key: created time and id, with the
status), written and deleted in the same transaction as the job: the depth caps and ``claim`` read it with a
strongly consistent query, in the order jobs are served. ``add`` holds the queue's lock item, so two nodes
cannot both take the last free place. A job whose webhook is pending has an item in the ``WEBHOOKS`` partition
(sort key: when it is due, and the id), kept in step in the same way; ``claim_webhook`` reads it in order and
takes a job by the compare-and-set.

An ended job without a result to delete gets a TTL of ``JOB_TTL`` (wall clock): DynamoDB removes the
record later on its own, and reads leave it out once past it.
"""

from __future__ import annotations

import dataclasses
import json
import time
from typing import Any

from gateway.accounts.capture_jobs import INTERRUPTED, INTERRUPTED_MESSAGE, CaptureJob, JobResult, QueueStats
from gateway.accounts.dynamodb_table import (
    Item,
    Table,
    delete_action,
    n,
    num,
    padded,
    put_action,
    s,
    text,
)

JOB_TTL = 30 * 86400.0
_UNFINISHED = ("queued", "processing")


def _job(item: Item) -> CaptureJob:
    doc: dict[str, Any] = json.loads(text(item, "doc"))
    if doc.get("result") is not None:
        doc["result"] = JobResult(**doc["result"])
    return CaptureJob(**doc)


def _order(job: CaptureJob) -> str:
    return f"{padded(job.created_at)}#{job.job_id}"


def _due(at: float, job_id: str) -> str:
    return f"{padded(at)}#{job_id}"


def _expired(job: CaptureJob, now: float) -> bool:
    return job.status == "processing" and job.lease_until is not None and job.lease_until < now


def _ended(job: CaptureJob, at: float, error: tuple[str, str] | None = None) -> CaptureJob:
    ended = dataclasses.replace(job, auth_sealed=None, lease_until=None, finished_at=at)
    if error is None:
        return ended
    return dataclasses.replace(ended, status="failed", error_code=error[0], error_message=error[1])


def worker_item(worker: str, seen_at: float) -> Item:
    return {"PK": s("WORKERS"), "SK": s(worker), "seen": n(seen_at)}


def webhook_item(job_id: str, due_at: float) -> Item:
    """A job's pending webhook in the ``WEBHOOKS`` partition, by when it is due."""
    return {"PK": s("WEBHOOKS"), "SK": s(_due(due_at, job_id)), "job_id": s(job_id)}


def webhook_secret_item(namespace: str, sealed: str, at: float) -> Item:
    return {"PK": s(f"WS#{namespace}"), "SK": s("WEBHOOKSECRET"), "sealed": s(sealed), "at": n(at)}


class DynamoCaptureJobStore:
    def __init__(self, table: Table) -> None:
        self._table = table

    def _item(self, job: CaptureJob, version: int) -> Item:
        item: Item = {
            "PK": s(f"JOB#{job.job_id}"),
            "SK": s("JOB"),
            "G1PK": s(f"JOBS#{job.namespace}"),
            "G1SK": s(_order(job)),
            "doc": s(json.dumps(dataclasses.asdict(job))),
            "ver": n(version),
        }
        if job.status not in _UNFINISHED and (job.result is None or job.result_deleted_at is not None):
            item["ttl"] = n(int(time.time() + JOB_TTL))
        return item

    @staticmethod
    def _queue_item(job: CaptureJob) -> Item:
        return {
            "PK": s("QUEUE"),
            "SK": s(_order(job)),
            "job_id": s(job.job_id),
            "jstatus": s(job.status),
            "namespace": s(job.namespace),
        }

    def _write(self, before: Item, job: CaptureJob) -> bool:
        """Write ``job`` over the record ``before`` if nobody wrote it since; keep its queue and webhook items
        in step."""
        version = int(num(before, "ver") or 0)
        actions = [put_action(self._item(job, version + 1), "ver = :v", {":v": n(version)})]
        if job.status in _UNFINISHED:
            actions.append(put_action(self._queue_item(job)))
        else:
            actions.append(delete_action("QUEUE", _order(job)))
        was = _job(before).webhook_due_at
        if was != job.webhook_due_at:
            if was is not None:
                actions.append(delete_action("WEBHOOKS", _due(was, job.job_id)))
            if job.webhook_due_at is not None:
                actions.append(put_action(webhook_item(job.job_id, job.webhook_due_at)))
        return self._table.transact(actions)

    def _queue(self) -> list[Item]:
        return list(self._table.query("QUEUE"))

    def add(self, job: CaptureJob, *, max_queued_workspace: int, max_queued_total: int) -> bool:
        with self._table.lock("JOBQUEUE"):
            queue = self._queue()
            if len(queue) >= max_queued_total:
                return False
            if sum(1 for item in queue if text(item, "namespace") == job.namespace) >= max_queued_workspace:
                return False
            ok = self._table.transact(
                [put_action(self._item(job, 1), "attribute_not_exists(PK)"), put_action(self._queue_item(job))]
            )
        if not ok:
            raise ValueError("a capture job with that id is stored already")
        return True

    def get(self, job_id: str) -> CaptureJob | None:
        item = self._table.get(f"JOB#{job_id}", "JOB")
        return _job(item) if item else None

    def list_jobs(self, namespace: str, *, limit: int, before: tuple[float, str] | None = None) -> list[CaptureJob]:
        found: list[CaptureJob] = []
        for item in self._table.query(f"JOBS#{namespace}", index="gsi1", forward=False):
            job = self.get(text(item, "PK").removeprefix("JOB#"))  # the index may lag: read the record itself
            if job is None or (before is not None and (job.created_at, job.job_id) >= before):
                continue
            found.append(job)
            if len(found) >= limit:
                break
        return found

    def claim(self, worker: str, *, now: float, lease: float, max_attempts: int) -> CaptureJob | None:
        for entry in self._queue():
            item = self._table.get(f"JOB#{text(entry, 'job_id')}", "JOB")
            if item is None:
                continue
            job = _job(item)
            if _expired(job, now) and job.attempts >= max_attempts:
                self._write(item, _ended(job, now, error=(INTERRUPTED, INTERRUPTED_MESSAGE)))
        for entry in self._queue():
            item = self._table.get(f"JOB#{text(entry, 'job_id')}", "JOB")
            if item is None:
                continue
            job = _job(item)
            if not (job.status == "queued" or (_expired(job, now) and job.attempts < max_attempts)):
                continue
            claimed = dataclasses.replace(
                job,
                status="processing",
                worker=worker,
                lease_until=now + lease,
                attempts=job.attempts + 1,
                started_at=job.started_at if job.started_at is not None else now,
            )
            if self._write(item, claimed):
                return claimed
        return None

    def _held(self, job_id: str, worker: str) -> tuple[Item, CaptureJob] | None:
        item = self._table.get(f"JOB#{job_id}", "JOB")
        if item is None:
            return None
        job = _job(item)
        if job.status != "processing" or job.worker != worker:
            return None
        return item, job

    def renew(self, job_id: str, worker: str, until: float) -> bool:
        held = self._held(job_id, worker)
        return held is not None and self._write(held[0], dataclasses.replace(held[1], lease_until=until))

    def complete(
        self, job_id: str, worker: str, result: JobResult, at: float, *, webhook_due_at: float | None = None
    ) -> bool:
        held = self._held(job_id, worker)
        if held is None:
            return False
        ended = dataclasses.replace(_ended(held[1], at), status="completed", result=result)
        return self._write(held[0], dataclasses.replace(ended, webhook_due_at=webhook_due_at))

    def fail(
        self, job_id: str, worker: str, code: str, message: str, at: float, *, webhook_due_at: float | None = None
    ) -> bool:
        held = self._held(job_id, worker)
        if held is None:
            return False
        ended = _ended(held[1], at, error=(code, message))
        return self._write(held[0], dataclasses.replace(ended, webhook_due_at=webhook_due_at))

    def claim_webhook(self, *, now: float, lease: float) -> CaptureJob | None:
        for entry in self._table.query("WEBHOOKS", between=("0", _due(now, "~"))):
            item = self._table.get(f"JOB#{text(entry, 'job_id')}", "JOB")
            if item is None:
                continue
            job = _job(item)
            if job.webhook_due_at is None or job.webhook_due_at > now:
                continue  # the entry is behind its record (a write in between): the record decides
            claimed = dataclasses.replace(job, webhook_due_at=now + lease, webhook_attempts=job.webhook_attempts + 1)
            if self._write(item, claimed):
                return claimed
        return None

    def webhook_next(self, job_id: str, attempts: int, due_at: float | None) -> bool:
        item = self._table.get(f"JOB#{job_id}", "JOB")
        if item is None:
            return False
        job = _job(item)
        if job.webhook_due_at is None or job.webhook_attempts != attempts:
            return False
        return self._write(item, dataclasses.replace(job, webhook_due_at=due_at))

    def mark_downloaded(self, job_id: str, at: float) -> bool:
        item = self._table.get(f"JOB#{job_id}", "JOB")
        if item is None:
            return False
        job = _job(item)
        return job.downloaded_at is None and self._write(item, dataclasses.replace(job, downloaded_at=at))

    def forget_result(self, job_id: str, at: float) -> JobResult | None:
        item = self._table.get(f"JOB#{job_id}", "JOB")
        if item is None:
            return None
        job = _job(item)
        if job.result is None or job.result_deleted_at is not None:
            return None
        return job.result if self._write(item, dataclasses.replace(job, result_deleted_at=at)) else None

    def expired_results(self, now: float, limit: int) -> list[CaptureJob]:
        due = [
            job
            for job in (_job(item) for item in self._table.scan("JOB#"))
            if job.result is not None and job.result_deleted_at is None and job.result.expires_at <= now
        ]
        return sorted(due, key=lambda j: j.result.expires_at if j.result else 0.0)[:limit]

    def stats(self, *, now: float, worker_window: float) -> QueueStats:
        queue = self._queue()
        queued = [item for item in queue if text(item, "jstatus") == "queued"]
        processing = len(queue) - len(queued)
        oldest = min((float(text(item, "SK").split("#")[0]) for item in queued), default=None)
        workers = sum(1 for item in self._table.query("WORKERS") if (num(item, "seen") or 0.0) >= now - worker_window)
        return QueueStats(len(queued), processing, oldest, workers)

    def unfinished(self, namespace: str) -> int:
        return sum(1 for item in self._queue() if text(item, "namespace") == namespace)

    def heartbeat(self, worker: str, at: float) -> None:
        self._table.put(worker_item(worker, at))

    def retire_worker(self, worker: str) -> None:
        self._table.delete("WORKERS", worker)

    def set_webhook_secret(self, namespace: str, sealed: str, at: float) -> None:
        self._table.put(webhook_secret_item(namespace, sealed, at))

    def webhook_secret(self, namespace: str) -> str | None:
        item = self._table.get(f"WS#{namespace}", "WEBHOOKSECRET")
        return text(item, "sealed") if item else None

    def forget(self, namespace: str) -> None:
        """The workspace is being deleted: its jobs and webhook secret go with it."""
        keys = []
        for item in self._table.query(f"JOBS#{namespace}", index="gsi1"):
            keys += [(text(item, "PK"), "JOB"), ("QUEUE", text(item, "G1SK"))]
            due = _job(item).webhook_due_at
            if due is not None:
                keys.append(("WEBHOOKS", _due(due, text(item, "PK").removeprefix("JOB#"))))
        keys.append((f"WS#{namespace}", "WEBHOOKSECRET"))
        self._table.delete_all(keys)
