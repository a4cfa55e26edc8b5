"""thumbor from the package index in its own virtualenv: file loader, Pillow engine, one process per core.

Two instances, each with its own config: "thumbor" (no result storage, so every request is a real
transform: thumbor keys its result storage on the URL path and ignores query strings, so a `v=`
cache buster cannot make misses) and "thumbor+rs" (file result storage that also stores unsafe URLs,
for the hit workloads).
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from pathlib import Path
from string import Template
from urllib.parse import quote

from bench.errors import BenchError
from bench.jobs import QUALITY, Job
from bench.peers.base import ProcessPeer
from bench.procs import wait_until_healthy
from bench.tools import require_tool
from loopback.ports import free_port
from loopback.processes import ManagedProcess

# 7.x is the line whose configuration names this harness writes.
THUMBOR_REQUIREMENT = "thumbor>=7.7,<8"
HOT_URLS = 1000
_TEMPLATE = Path(__file__).resolve().parent.parent / "templates" / "thumbor.conf"
_FORMAT_NAMES = {"jpg": "jpeg", "webp": "webp"}


def ensure_thumbor(work_dir: Path) -> Path:
    """The thumbor script of the bench's own virtualenv, created on the first run and reused later."""
    venv = work_dir / "thumbor-venv"
    thumbor = venv / "bin" / "thumbor"
    if thumbor.exists():
        return thumbor
    python3 = require_tool("python3")
    log = work_dir / "logs" / "thumbor-install.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    print(f"bench: installing thumbor into {venv} (once; log in {log})", flush=True)
    with log.open("w") as out:
        steps = ([python3, "-m", "venv", str(venv)], [str(venv / "bin" / "pip"), "install", THUMBOR_REQUIREMENT])
        for argv in steps:
            done = subprocess.run(argv, stdout=out, stderr=subprocess.STDOUT, timeout=900)  # noqa: S603
            if done.returncode != 0:
                raise BenchError(f"thumbor install failed at `{' '.join(argv[:3])}`; see {log}")
    if not thumbor.exists():
        raise BenchError(f"thumbor installed but {thumbor} is missing; see {log}")
    return thumbor


def thumbor_version(thumbor: Path) -> str:
    done = subprocess.run(  # noqa: S603 - our own venv's script
        [str(thumbor), "--version"], capture_output=True, text=True, timeout=60
    )
    return (done.stdout or done.stderr).strip() or "unknown"


def prepare_root(corpus: Path, root: Path, hot_source: str | None) -> None:
    """thumbor's loader root: the corpus, plus HOT_URLS links to one photo under distinct names.

    thumbor has no cache-buster parameter, so a set of distinct hot URLs needs distinct paths.
    """
    root.mkdir(parents=True, exist_ok=True)
    for source in corpus.iterdir():
        link = root / source.name
        if source.is_file() and not link.exists():
            link.symlink_to(source)
    if hot_source is not None:
        hot = root / "hot"
        hot.mkdir(exist_ok=True)
        for index in range(HOT_URLS):
            link = hot / f"{index}-{hot_source}"
            if not link.is_symlink():
                link.symlink_to(corpus / hot_source)


def _loader(root: Path, storage_root: Path, http_origin: str | None) -> str:
    if http_origin is None:
        return (
            "LOADER = 'thumbor.loaders.file_loader'\n"
            f"FILE_LOADER_ROOT_PATH = '{root}'\n"
            "# The file loader already reads local disk: an originals storage would only copy the same files.\n"
            "STORAGE = 'thumbor.storages.no_storage'"
        )
    shutil.rmtree(storage_root, ignore_errors=True)
    # thumbor's defaults for a remote origin: its HTTP loader, and originals kept in its file storage.
    return (
        "LOADER = 'thumbor.loaders.http_loader'\n"
        "STORAGE = 'thumbor.storages.file_storage'\n"
        f"FILE_STORAGE_ROOT_PATH = '{storage_root}'"
    )


class ThumborPeer(ProcessPeer):
    busts_by_query = False

    def __init__(
        self,
        thumbor: Path,
        root: Path,
        work_dir: Path,
        processes: int,
        result_storage: bool,
        http_origin: str | None = None,
    ) -> None:
        """``http_origin`` ("127.0.0.1:port"): load originals over HTTP from there instead of from ``root``."""
        self.label = "thumbor+rs" if result_storage else "thumbor"
        name = "thumbor-rs" if result_storage else "thumbor"
        self._origin = http_origin
        if http_origin is not None:
            name = "thumbor-http"
        self.result_root = work_dir / f"{name}-results"
        shutil.rmtree(self.result_root, ignore_errors=True)  # hits must be earned in this run
        storage = (
            "RESULT_STORAGE = 'thumbor.result_storages.file_storage'\n"
            f"RESULT_STORAGE_FILE_STORAGE_ROOT_PATH = '{self.result_root}'\n"
            "RESULT_STORAGE_STORES_UNSAFE = True\n"
            "RESULT_STORAGE_EXPIRATION_SECONDS = 0\n"
            if result_storage
            else "RESULT_STORAGE = None\n"
        )
        work_dir.mkdir(parents=True, exist_ok=True)
        config = work_dir / f"{name}.conf"
        config.write_text(
            Template(_TEMPLATE.read_text()).substitute(
                loader=_loader(root, work_dir / f"{name}-storage", http_origin),
                quality=QUALITY,
                security_key=secrets.token_hex(16),
                result_storage=storage,
            )
        )
        port = free_port()
        self.base_url = f"http://127.0.0.1:{port}"
        argv = [str(thumbor), "--ip", "127.0.0.1", "--port", str(port), "--conf", str(config)]
        argv += ["--processes", str(processes), "--log-level", "warning"]
        # Our own VIPS/OMP settings mean nothing to Pillow, but keep thumbor's environment clean of them.
        env = {key: value for key, value in os.environ.items() if not key.startswith("VIPS_")}
        self._process = ManagedProcess(name, argv, log_path=work_dir / "logs" / f"{name}.log", env=env)
        wait_until_healthy(self._process, f"{self.base_url}/healthcheck")

    def miss_path(self, job: Job) -> str:
        if self._origin is not None:
            # "{origin}" becomes a tag per request or per srcset (bench/lua/paths.lua): a new original each time.
            return self._path(job, f"{self._origin}/{{origin}}/{quote(job.source)}")
        return self._path(job, quote(job.source))

    def hot_path(self, job: Job, index: int) -> str:
        return self._path(job, f"hot/{index}-{quote(job.source)}")

    def _path(self, job: Job, image: str) -> str:
        filters = f"filters:quality({job.quality}):format({_FORMAT_NAMES[job.fmt]})"
        return f"/unsafe/{job.width}x0/{filters}/{image}"

    def stored_results(self) -> int:
        """How many rendered images thumbor has in its result storage (to prove hits are hits)."""
        if not self.result_root.exists():
            return 0
        return sum(1 for path in self.result_root.rglob("*") if path.is_file())
