"""Capture jobs: asynchronous screenshots submitted through the management API (``POST /_/api/v1/captures``).

    spec.py       JobSpec (the request, without secrets) and JobAuth (cookies, localStorage: sealed at rest)
    protocol.py   JobQueue: submit, claim with a lease, renew, complete, fail, stats, claim a due webhook
    local.py      StoreQueue: the queue over ``store.capture_jobs``: the account store (one node), or Redis
                  (``gateway.accounts.redis_capture_jobs``, ``capture_jobs_store = "redis"``: many nodes,
                  chosen by ``gateway.accounts.factory``)
    runner.py     one job: capture in a fresh browser context with its auth, transform, keep the result
    workers.py    CaptureWorkers: worker tasks in the gateway process, lease renewal, the result sweeper
    links.py      signed, expiring result URLs (/_/results/{id}?exp=&sig=)
    webhooks.py   signed webhook deliveries through the SSRF guard, with bounded exponential backoff (the
                  next attempt kept in the job, so a restart or another worker carries on)
    documents.py  the job document the API answers and webhooks carry (never a secret)
    accounting.py ended jobs and result downloads counted through the request hooks (usage, quotas, metrics)

The admin operations over them are in ``gateway/admin/captures.py``; the routes in
``gateway/routes/api/captures.py`` and ``gateway/routes/results.py``.
"""
