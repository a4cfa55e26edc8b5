"""The job document: what ``GET /_/api/v1/captures/{id}`` answers and a webhook carries. Never a secret: it is
made from the record's public fields and the spec, never from ``auth_sealed``."""

from __future__ import annotations

import math
from typing import Any

from gateway.accounts.capture_jobs import CaptureJob
from gateway.jobs.links import ResultLinks
from gateway.jobs.spec import JobSpec


def job_document(job: CaptureJob, links: ResultLinks, *, base_url: str, now: float, url_ttl: int) -> dict[str, Any]:
    spec = JobSpec.from_json(job.spec)
    document: dict[str, Any] = {
        "id": job.job_id,
        "status": job.status,
        "url": job.url,
        "format": spec.format,
        "retention": spec.retention,
        "createdAt": job.created_at,
        "startedAt": job.started_at,
        "finishedAt": job.finished_at,
        "attempts": job.attempts,
    }
    if job.status == "failed":
        document["error"] = {"code": job.error_code or "INTERNAL", "message": job.error_message or "internal error"}
    result = job.result
    if job.status == "completed" and result is not None:
        document.update(bytes=result.bytes, width=result.width, height=result.height)
        if job.result_deleted_at is None and result.expires_at > now:
            # A fresh link each time it is asked for, never past the result's own end.
            exp = int(min(now + url_ttl, result.expires_at))
            if exp > now:
                document["resultUrl"] = base_url + links.path(job.job_id, exp)
                document["expiresAt"] = exp
        else:
            document["resultDeletedAt"] = job.result_deleted_at or math.floor(result.expires_at)
    return document
