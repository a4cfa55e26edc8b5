"""The limiter shared by many nodes: token buckets in Redis, leased in the background.

A request never waits on Redis. Each worker process holds, per workspace, a lease of a few tokens
(``lease_size``: 1/20 of a second's rate) taken from the workspace's bucket in Redis by one atomic Lua script
(refill by Redis's own clock, so the nodes' clocks need not agree), and spends it from memory. When half a
lease is left the next one is asked for in the background. What is admitted without a token in hand is
*owed*, and taken from the shared bucket with the next lease (which may take it below zero, so no token is
ever handed out twice):

- the first requests of a workspace in a process, before its first lease is back: the node's own bucket
  (``NodeLimiter``, the same plan) decides, so a page's burst on a cold worker is served;
- later, a burst that outruns the prefetch: at most one lease on credit, then refusals for the round trip.

When Redis says the bucket is empty, the process refuses from memory until a lease's worth has refilled.

How exact: every admitted request is a token of the shared bucket, taken or owed, so over time the nodes
together admit the rate times the time plus the burst. At a given moment they can be ahead by what is owed
and not yet taken (one lease per process, and a cold start's first round trip), or behind by the tokens held
in unspent leases (at most one lease per process, dropped after ``LEASE_SECONDS``): with the default lease,
5% of a second's rate per process either way.

Redis down (a refused connection, a timeout): the process switches to the node-wide ``NodeLimiter`` at once
(the same plan limits, for this node alone), ``health()`` says "degraded", and a probe asks Redis every
``retry_every`` seconds; when it answers, leases come from Redis again and ``health()`` is "ok". Nothing on
this path raises into the request path.
"""

from __future__ import annotations

import asyncio
import logging

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.commands.core import AsyncScript

from gateway.limits.clock import SYSTEM_CLOCK, Clock
from gateway.limits.node import LEASE_SECONDS, NodeLimiter
from gateway.limits.protocol import Decision, Health, lease_size

log = logging.getLogger("imgate.limits")

# KEYS[1]: the bucket; ARGV: rate, burst, tokens wanted, tokens owed. Returns {taken, tokens left}.
TAKE_LEASE = """
local now = redis.call('TIME')
now = tonumber(now[1]) + tonumber(now[2]) / 1000000
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local want, owed = tonumber(ARGV[3]), tonumber(ARGV[4])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'stamp')
local tokens, stamp = tonumber(state[1]), tonumber(state[2])
if tokens == nil then
  tokens, stamp = burst, now
end
tokens = math.min(burst, tokens + math.max(0, now - stamp) * rate) - owed
local taken = 0
if tokens >= 1 then
  taken = math.min(want, math.floor(tokens))
end
tokens = tokens - taken
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'stamp', tostring(now))
-- Once it would be full again the bucket is the same as no bucket: let it go.
redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) / rate * 1000) + 1000)
return {taken, tostring(tokens)}
"""

KEY_PREFIX = "imgate:rate:"
_MAX_LOCAL = 20_000


class _Share:
    __slots__ = ("empty_until", "expires", "known", "left", "low", "owed", "task", "tokens")

    def __init__(self) -> None:
        self.tokens = 0  # leased, not spent yet
        self.left = 0  # the bucket's tokens at the last lease
        self.expires = 0.0
        self.owed = 0  # admitted by the node's bucket while no lease was in hand, taken with the next lease
        self.low = 0
        self.known = False  # a lease came back: the shared bucket's state is known
        self.empty_until = 0.0
        self.task: asyncio.Task[None] | None = None


class RedisLimiter:
    def __init__(
        self,
        url: str,
        fallback: NodeLimiter,
        clock: Clock = SYSTEM_CLOCK,
        timeout: float = 0.5,
        retry_every: float = 1.0,
        key_prefix: str = KEY_PREFIX,
    ) -> None:
        self._url = url
        self._fallback = fallback
        self._clock = clock
        self._timeout = timeout
        self._retry_every = retry_every
        self._prefix = key_prefix
        self._client: aioredis.Redis | None = None
        self._script: AsyncScript | None = None
        self._shares: dict[str, _Share] = {}
        # Every lease in flight, apart from the shares: clearing the shares (too many, Redis down) must not
        # lose a task that aclose has to stop and wait for.
        self._leases: set[asyncio.Task[None]] = set()
        self._degraded = False
        self._probe: asyncio.Task[None] | None = None
        self._closed = False

    def acquire(self, namespace: str, rate: int, burst: int) -> Decision:
        if self._degraded:
            return self._fallback.acquire(namespace, rate, burst)
        share = self._shares.get(namespace)
        if share is None:
            if len(self._shares) >= _MAX_LOCAL:
                self._shares.clear()
            share = self._shares[namespace] = _Share()
        now = self._clock.monotonic()
        if share.tokens > 0 and now < share.expires:
            share.tokens -= 1
            if share.tokens <= share.low and share.task is None:
                self._ask(namespace, share, rate, burst)
            remaining = share.left + share.tokens
            return Decision(True, remaining, (burst - remaining) / rate)
        share.tokens = 0
        if now < share.empty_until:
            return Decision(False, 0, share.empty_until - now)
        if share.task is None:
            self._ask(namespace, share, rate, burst)
            if share.task is None:
                return self._fallback.acquire(namespace, rate, burst)
        if not share.known:
            # The first lease is on its way: nothing is known of the shared bucket yet, so the node's own
            # bucket decides (a page's burst on a cold worker is served), and what it admits is owed.
            decision = self._fallback.acquire(namespace, rate, burst)
            if decision.admitted:
                share.owed += 1
            return decision
        if share.owed < max(1, share.low * 2):
            # A lease is on its way (a burst outran the prefetch): admitted on credit, at most one lease.
            share.owed += 1
            return Decision(True, share.left, (burst - share.left) / rate)
        return Decision(False, 0, 1.0 / rate)  # until the lease is back, about a round trip

    def _ask(self, namespace: str, share: _Share, rate: int, burst: int) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no event loop to ask from (a synchronous caller): the node's bucket decides
        lease = lease_size(rate, burst)
        share.low = lease // 2  # the next lease is asked for when this many are left
        task = share.task = loop.create_task(self._lease(namespace, share, rate, burst, lease))
        self._leases.add(task)
        task.add_done_callback(self._leases.discard)

    async def _lease(self, namespace: str, share: _Share, rate: int, burst: int, lease: int) -> None:
        owed = share.owed
        try:
            result = await self._take(namespace, rate, burst, lease, owed)
        except Exception:
            self._down()
            return
        finally:
            share.task = None
        taken, left = result
        now = self._clock.monotonic()
        share.owed -= owed
        share.left = max(0, int(left))
        share.known = True
        if taken:
            share.tokens += taken
            share.expires = now + LEASE_SECONDS
        elif share.tokens == 0:
            share.empty_until = now + max(1.0, lease - left) / rate

    async def _take(self, namespace: str, rate: int, burst: int, want: int, owed: int) -> tuple[int, float]:
        if self._client is None:
            self._client = aioredis.Redis.from_url(
                self._url,
                socket_timeout=self._timeout,
                socket_connect_timeout=self._timeout,
                retry=Retry(NoBackoff(), 0),
            )
            self._script = self._client.register_script(TAKE_LEASE)
        script = self._script
        assert script is not None  # noqa: S101 - set together with the client
        taken, left = await script(keys=[self._prefix + namespace], args=[rate, burst, want, owed])
        return int(taken), float(left)

    def _down(self) -> None:
        if self._degraded or self._closed:
            return
        log.warning("Redis cannot be reached: rate limits are kept by this node alone until it answers again")
        self._degraded = True
        self._shares.clear()
        self._probe = asyncio.get_running_loop().create_task(self._wait_for_redis())

    async def _wait_for_redis(self) -> None:
        while not self._closed:
            await asyncio.sleep(self._retry_every)
            try:
                client = self._client
                if client is None:
                    break
                await client.execute_command("PING")  # type: ignore[no-untyped-call]
            except Exception:  # noqa: S112 - still down: ask again later
                continue
            break
        self._shares.clear()
        self._degraded = False
        self._probe = None
        if not self._closed:
            log.warning("Redis answers again: rate limits are shared by every node again")

    def health(self) -> Health:
        return "degraded" if self._degraded else "ok"

    async def aclose(self) -> None:
        self._closed = True
        tasks = list(self._leases)
        if self._probe is not None:
            tasks.append(self._probe)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()
        await self._fallback.aclose()
