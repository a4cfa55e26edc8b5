"""One bench run's servers: started on first use, shared by the workloads, all stopped at the end.

A peer that cannot start is recorded with the reason and skipped, so the others are still measured
(the gateway itself is being built alongside this harness and may not run yet).
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Protocol, TypeVar

from bench.errors import BenchError
from bench.jobs import Job, hot_job
from bench.options import BenchOptions
from bench.peers.gateway import GatewayPeer
from bench.peers.nginx import NginxPeer
from bench.peers.thumbor import ThumborPeer, ensure_thumbor, prepare_root, thumbor_version


class _Managed(Protocol):
    def running(self) -> bool: ...

    def stop(self) -> None: ...


_P = TypeVar("_P", bound=_Managed)


class BenchSession:
    def __init__(self, options: BenchOptions) -> None:
        self.options = options
        self.unavailable: dict[str, str] = {}
        self.restarts: dict[str, int] = {}
        self.versions: dict[str, str] = {}
        self.shared: dict[str, object] = {}  # values workloads compute once and reuse (warm-ups)
        self._running: dict[str, _Managed] = {}
        self._thumbor_bin: Path | None = None

    @property
    def work_dir(self) -> Path:
        return self.options.work_dir

    def gateway(self) -> GatewayPeer | None:
        return self._get(
            "imgate", GatewayPeer, lambda: GatewayPeer(self.options.corpus, self.work_dir, self.options.cores)
        )

    def fresh_gateway(self) -> GatewayPeer | None:
        """A newly started gateway (empty caches), replacing the running one."""
        running = self._running.pop("imgate", None)
        if running is not None:
            running.stop()
        return self.gateway()

    def thumbor(self, result_storage: bool) -> ThumborPeer | None:
        key = "thumbor+rs" if result_storage else "thumbor"
        return self._get(key, ThumborPeer, lambda: self._new_thumbor(result_storage))

    def nginx(self, root: Path) -> NginxPeer | None:
        return self._get("nginx static", NginxPeer, lambda: NginxPeer(root, self.work_dir, self.options.cores))

    def close(self) -> None:
        while self._running:
            _, peer = self._running.popitem()
            peer.stop()

    def _new_thumbor(self, result_storage: bool) -> ThumborPeer:
        if self._thumbor_bin is None:
            self._thumbor_bin = ensure_thumbor(self.work_dir)
            self.versions["thumbor"] = thumbor_version(self._thumbor_bin)
        root = self.work_dir / "thumbor-root"
        hot: Job | None = hot_job(self.options.corpus)
        prepare_root(self.options.corpus, root, hot.source if hot else None)
        return ThumborPeer(self._thumbor_bin, root, self.work_dir, self.options.cores, result_storage)

    def _get(self, key: str, kind: type[_P], factory: Callable[[], _P]) -> _P | None:
        if key in self.unavailable:
            return None
        existing = self._running.get(key)
        if isinstance(existing, kind):
            if existing.running():
                return existing
            # Died between workloads (crashed, or killed by something else on a shared machine):
            # clear what is left of its group and start a new one, and say so in the report.
            print(f"bench: {key} is no longer running; starting it again", flush=True)
            self.restarts[key] = self.restarts.get(key, 0) + 1
            existing.stop()
            del self._running[key]
        print(f"bench: starting {key}", flush=True)
        try:
            peer = factory()
        except (BenchError, OSError, subprocess.SubprocessError) as error:
            self.unavailable[key] = str(error)
            print(f"bench: {key} unavailable: {error}", flush=True)
            return None
        self._running[key] = peer
        return peer
