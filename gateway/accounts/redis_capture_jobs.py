"""Capture jobs in Redis (``capture_jobs_store = "redis"``), so that every node's workers take jobs from one queue
and any node answers for any job: the queue backend for many nodes.

Layout under ``prefix``: ``job:{id}`` the record as JSON; ``queued`` (a sorted set by creation time) and ``leases``
(by lease expiry) hold the unfinished jobs; ``unfinished`` and ``unfinished:{ns}`` (sets) count them for the depth
caps; ``ns:{ns}`` lists a workspace's jobs by creation time; ``results`` orders kept results by retention end;
``workers`` maps a worker to when it last reported; ``webhook:{ns}`` the sealed webhook secret; ``webhooks`` orders
the jobs whose webhook is pending by when it is due.

What must hold across nodes is one Lua script each, so Redis runs it atomically: ``add`` (the caps and the
insert), ``claim`` (failing the expired jobs whose attempts are spent, then leasing the oldest queued or expired
one), every change that only the lease holder may make (``renew``, ``complete``, ``fail``: the end of a job and
its pending webhook in one step), and the webhook's claim and next attempt. Times are the
caller's, as in every implementation (``tests/gateway/accounts/capture_jobs_contract.py``), never Redis' clock.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any, cast

import redis

from gateway.accounts.capture_jobs import INTERRUPTED, INTERRUPTED_MESSAGE, CaptureJob, JobResult, QueueStats

_TIMEOUT = 5.0

# KEYS: job, unfinished, unfinished:ns, queued, ns:ns. ARGV: record, max workspace, max total, id, created_at.
_ADD = """
if redis.call('EXISTS', KEYS[1]) == 1 then return -1 end
if redis.call('SCARD', KEYS[2]) >= tonumber(ARGV[3]) then return 0 end
if redis.call('SCARD', KEYS[3]) >= tonumber(ARGV[2]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('SADD', KEYS[2], ARGV[4])
redis.call('SADD', KEYS[3], ARGV[4])
redis.call('ZADD', KEYS[4], ARGV[5], ARGV[4])
redis.call('ZADD', KEYS[5], ARGV[5], ARGV[4])
return 1
"""

# KEYS: queued, leases, unfinished. ARGV: prefix, now, lease, max attempts, worker, interrupted code, message.
_CLAIM = """
local prefix, now, lease, most, worker = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5]
local function finish(id, job)
  redis.call('ZREM', KEYS[2], id)
  redis.call('ZREM', KEYS[1], id)
  redis.call('SREM', KEYS[3], id)
  redis.call('SREM', KEYS[3] .. ':' .. job.namespace, id)
end
local best, best_job = nil, nil
local function consider(id, job)
  if best == nil or job.created_at < best_job.created_at or (job.created_at == best_job.created_at and id < best) then
    best, best_job = id, job
  end
end
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[2])) do
  local job = cjson.decode(redis.call('GET', prefix .. 'job:' .. id))
  if job.attempts >= most then
    job.status, job.error_code, job.error_message = 'failed', ARGV[6], ARGV[7]
    job.auth_sealed, job.lease_until, job.finished_at = cjson.null, cjson.null, now
    redis.call('SET', prefix .. 'job:' .. id, cjson.encode(job))
    finish(id, job)
  else
    consider(id, job)
  end
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0)
if oldest[1] then consider(oldest[1], cjson.decode(redis.call('GET', prefix .. 'job:' .. oldest[1]))) end
if best == nil then return false end
best_job.status, best_job.worker, best_job.lease_until = 'processing', worker, now + lease
best_job.attempts = best_job.attempts + 1
if best_job.started_at == cjson.null or best_job.started_at == nil then best_job.started_at = now end
local encoded = cjson.encode(best_job)
redis.call('SET', prefix .. 'job:' .. best, encoded)
redis.call('ZREM', KEYS[1], best)
redis.call('ZADD', KEYS[2], now + lease, best)
return encoded
"""

# KEYS: job, leases, unfinished, webhooks. ARGV: worker, new record (or '' to only renew), lease until, id,
# when the ended job's webhook is due ('' for none).
_HELD = """
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
local job = cjson.decode(raw)
if job.status ~= 'processing' or job.worker ~= ARGV[1] then return 0 end
if ARGV[2] == '' then
  job.lease_until = tonumber(ARGV[3])
  redis.call('SET', KEYS[1], cjson.encode(job))
  redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4])
  return 1
end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('ZREM', KEYS[2], ARGV[4])
redis.call('SREM', KEYS[3], ARGV[4])
redis.call('SREM', KEYS[3] .. ':' .. job.namespace, ARGV[4])
if ARGV[5] ~= '' then redis.call('ZADD', KEYS[4], ARGV[5], ARGV[4]) end
return 1
"""

# KEYS: webhooks. ARGV: prefix, now, lease.
_CLAIM_WEBHOOK = """
local now, lease = tonumber(ARGV[2]), tonumber(ARGV[3])
while true do
  local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[2], 'LIMIT', 0, 1)
  local id = due[1]
  if not id then return false end
  local raw = redis.call('GET', ARGV[1] .. 'job:' .. id)
  if raw then
    local job = cjson.decode(raw)
    job.webhook_due_at = now + lease
    job.webhook_attempts = (tonumber(job.webhook_attempts) or 0) + 1
    local encoded = cjson.encode(job)
    redis.call('SET', ARGV[1] .. 'job:' .. id, encoded)
    redis.call('ZADD', KEYS[1], now + lease, id)
    return encoded
  end
  redis.call('ZREM', KEYS[1], id)
end
"""

# KEYS: job, webhooks. ARGV: attempts, next due ('' when delivered or given up), id.
_WEBHOOK_NEXT = """
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
local job = cjson.decode(raw)
if job.webhook_due_at == nil or job.webhook_due_at == cjson.null then return 0 end
if tonumber(job.webhook_attempts) ~= tonumber(ARGV[1]) then return 0 end
if ARGV[2] == '' then
  job.webhook_due_at = cjson.null
  redis.call('ZREM', KEYS[2], ARGV[3])
else
  job.webhook_due_at = tonumber(ARGV[2])
  redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
end
redis.call('SET', KEYS[1], cjson.encode(job))
return 1
"""


def _encode(job: CaptureJob) -> str:
    data = dataclasses.asdict(job)
    return json.dumps(data)


def _decode(raw: str | bytes) -> CaptureJob:
    data: dict[str, Any] = json.loads(raw)
    result = data.pop("result", None)
    fields = {f.name for f in dataclasses.fields(CaptureJob)}
    values: dict[str, Any] = {name: data[name] for name in fields if name != "result" and name in data}
    job = CaptureJob(**values)
    if isinstance(result, dict):
        job = dataclasses.replace(job, result=JobResult(**result))
    return job


class RedisCaptureJobStore:
    def __init__(self, url: str, prefix: str = "imgate:") -> None:
        self._redis = redis.Redis.from_url(url, socket_timeout=_TIMEOUT, socket_connect_timeout=_TIMEOUT)
        self._p = prefix
        self._add = self._redis.register_script(_ADD)
        self._claim = self._redis.register_script(_CLAIM)
        self._held = self._redis.register_script(_HELD)
        self._claim_webhook = self._redis.register_script(_CLAIM_WEBHOOK)
        self._webhook_next = self._redis.register_script(_WEBHOOK_NEXT)

    def close(self) -> None:
        self._redis.close()

    def _job_key(self, job_id: str) -> str:
        return f"{self._p}job:{job_id}"

    def add(self, job: CaptureJob, *, max_queued_workspace: int, max_queued_total: int) -> bool:
        p = self._p
        keys = [self._job_key(job.job_id), f"{p}unfinished", f"{p}unfinished:{job.namespace}", f"{p}queued"]
        keys.append(f"{p}ns:{job.namespace}")
        args: list[str | int | float] = [
            _encode(job),
            max_queued_workspace,
            max_queued_total,
            job.job_id,
            job.created_at,
        ]
        outcome = int(self._add(keys=keys, args=args))
        if outcome < 0:
            raise ValueError("a capture job with that id is stored already")
        return outcome == 1

    def get(self, job_id: str) -> CaptureJob | None:
        raw = self._redis.get(self._job_key(job_id))
        return _decode(raw) if raw is not None else None  # type: ignore[arg-type]

    def list_jobs(self, namespace: str, *, limit: int, before: tuple[float, str] | None = None) -> list[CaptureJob]:
        key = f"{self._p}ns:{namespace}"
        top = "+inf" if before is None else str(before[0])
        # Same-time jobs are ordered by id (the sorted set's own tie order); fetch a little more and filter.
        ids = self._redis.zrevrangebyscore(key, top, "-inf", start=0, num=limit + 50)
        jobs = [job for job in (self.get(i.decode()) for i in cast(list[bytes], ids)) if job is not None]
        if before is not None:
            jobs = [job for job in jobs if (job.created_at, job.job_id) < before]
        return jobs[:limit]

    def claim(self, worker: str, *, now: float, lease: float, max_attempts: int) -> CaptureJob | None:
        p = self._p
        keys = [f"{p}queued", f"{p}leases", f"{p}unfinished"]
        raw = self._claim(keys=keys, args=[p, now, lease, max_attempts, worker, INTERRUPTED, INTERRUPTED_MESSAGE])
        return _decode(raw) if raw else None

    def _if_held(
        self, job_id: str, worker: str, record: str, until: float = 0.0, webhook_due_at: float | None = None
    ) -> bool:
        p = self._p
        keys = [self._job_key(job_id), f"{p}leases", f"{p}unfinished", f"{p}webhooks"]
        due = "" if webhook_due_at is None else repr(webhook_due_at)
        return int(self._held(keys=keys, args=[worker, record, until, job_id, due])) == 1

    def renew(self, job_id: str, worker: str, until: float) -> bool:
        return self._if_held(job_id, worker, "", until)

    def complete(
        self, job_id: str, worker: str, result: JobResult, at: float, *, webhook_due_at: float | None = None
    ) -> bool:
        job = self.get(job_id)
        if job is None:
            return False
        ended = dataclasses.replace(
            job,
            status="completed",
            result=result,
            auth_sealed=None,
            lease_until=None,
            finished_at=at,
            webhook_due_at=webhook_due_at,
        )
        if not self._if_held(job_id, worker, _encode(ended), webhook_due_at=webhook_due_at):
            return False
        self._redis.zadd(f"{self._p}results", {job_id: result.expires_at})
        return True

    def fail(
        self, job_id: str, worker: str, code: str, message: str, at: float, *, webhook_due_at: float | None = None
    ) -> bool:
        job = self.get(job_id)
        if job is None:
            return False
        ended = dataclasses.replace(
            job,
            status="failed",
            error_code=code,
            error_message=message,
            auth_sealed=None,
            lease_until=None,
            finished_at=at,
            webhook_due_at=webhook_due_at,
        )
        return self._if_held(job_id, worker, _encode(ended), webhook_due_at=webhook_due_at)

    def claim_webhook(self, *, now: float, lease: float) -> CaptureJob | None:
        raw = self._claim_webhook(keys=[f"{self._p}webhooks"], args=[self._p, now, lease])
        return _decode(raw) if raw else None

    def webhook_next(self, job_id: str, attempts: int, due_at: float | None) -> bool:
        keys = [self._job_key(job_id), f"{self._p}webhooks"]
        due = "" if due_at is None else repr(due_at)
        return int(self._webhook_next(keys=keys, args=[attempts, due, job_id])) == 1

    def _change(self, job_id: str, change: Any) -> Any:
        """Apply ``change(job) -> (new job or None, answer)`` under WATCH, retried on a concurrent write."""
        key = self._job_key(job_id)
        with self._redis.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(key)  # type: ignore[no-untyped-call]
                    raw = pipe.get(key)
                    if raw is None:
                        pipe.reset()
                        return change(None)[1]
                    updated, answer = change(_decode(raw))  # type: ignore[arg-type]
                    if updated is None:
                        pipe.reset()
                        return answer
                    pipe.multi()
                    pipe.set(key, _encode(updated))
                    if updated.result_deleted_at is not None:
                        pipe.zrem(f"{self._p}results", job_id)
                    pipe.execute()
                    return answer
                except redis.WatchError:
                    continue

    def mark_downloaded(self, job_id: str, at: float) -> bool:
        def change(job: CaptureJob | None) -> tuple[CaptureJob | None, bool]:
            if job is None or job.downloaded_at is not None:
                return None, False
            return dataclasses.replace(job, downloaded_at=at), True

        return bool(self._change(job_id, change))

    def forget_result(self, job_id: str, at: float) -> JobResult | None:
        def change(job: CaptureJob | None) -> tuple[CaptureJob | None, JobResult | None]:
            if job is None or job.result is None or job.result_deleted_at is not None:
                return None, None
            return dataclasses.replace(job, result_deleted_at=at), job.result

        forgotten: JobResult | None = self._change(job_id, change)
        return forgotten

    def expired_results(self, now: float, limit: int) -> list[CaptureJob]:
        ids = self._redis.zrangebyscore(f"{self._p}results", "-inf", now, start=0, num=limit)
        jobs = [self.get(i.decode()) for i in ids]  # type: ignore[union-attr]
        return [job for job in jobs if job is not None and job.result_deleted_at is None]

    def stats(self, *, now: float, worker_window: float) -> QueueStats:
        p = self._p
        queued = int(self._redis.zcard(f"{p}queued"))  # type: ignore[arg-type]
        processing = int(self._redis.zcard(f"{p}leases"))  # type: ignore[arg-type]
        oldest = self._redis.zrange(f"{p}queued", 0, 0, withscores=True)
        seen = cast(list[bytes], self._redis.hvals(f"{p}workers"))
        workers = len([value for value in seen if float(value) >= now - worker_window])
        first = float(oldest[0][1]) if oldest else None  # type: ignore[index]
        return QueueStats(queued, processing, first, workers)

    def unfinished(self, namespace: str) -> int:
        return int(self._redis.scard(f"{self._p}unfinished:{namespace}"))  # type: ignore[arg-type]

    def heartbeat(self, worker: str, at: float) -> None:
        self._redis.hset(f"{self._p}workers", worker, repr(at))

    def retire_worker(self, worker: str) -> None:
        self._redis.hdel(f"{self._p}workers", worker)

    def set_webhook_secret(self, namespace: str, sealed: str, at: float) -> None:
        self._redis.set(f"{self._p}webhook:{namespace}", sealed)

    def webhook_secret(self, namespace: str) -> str | None:
        raw = self._redis.get(f"{self._p}webhook:{namespace}")
        return raw.decode() if isinstance(raw, bytes) else None

    def forget(self, namespace: str) -> None:
        """The workspace was deleted: its jobs go with it."""
        ids = [i.decode() for i in self._redis.zrange(f"{self._p}ns:{namespace}", 0, -1)]  # type: ignore[union-attr]
        p = self._p
        with self._redis.pipeline() as pipe:
            for job_id in ids:
                pipe.delete(self._job_key(job_id))
                for key in ("queued", "leases", "results", "webhooks"):
                    pipe.zrem(f"{p}{key}", job_id)
                pipe.srem(f"{p}unfinished", job_id)
            pipe.delete(f"{p}ns:{namespace}", f"{p}unfinished:{namespace}", f"{p}webhook:{namespace}")
            pipe.execute()
