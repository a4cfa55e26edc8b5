"""Rate limits and monthly quotas per workspace, enforced on the request path.

- ``protocol``: the ``Limiter`` protocol (a token bucket per workspace: rate and burst from its plan) and its
  ``Decision``; ``clock``: the wall and monotonic clocks, injectable for tests.
- ``node``: the node-wide in-process limiter, one bucket per workspace in a shared-memory table every
  Granian worker of the machine leases tokens from.
- ``redis_limiter``: the limiter shared by many nodes, leasing tokens from Redis in the background, falling
  back to the node limiter while Redis is down.
- ``quotas``: the monthly renders, captures and bytes-out quotas, read from the usage counters.
- ``headers``: the ``RateLimit-Policy`` and ``RateLimit`` fields (draft-ietf-httpapi-ratelimit-headers).
- ``hooks``: ``LimitHooks``, the ``RequestHooks`` and render gate that puts all of it on the request path;
  ``factory``: the limiter the settings choose.
"""
