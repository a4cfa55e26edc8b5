"""One bench run at a time per clone.

Two runs would share bench-results/work (each wipes the gateway's data folder and thumbor's result
storage when it starts) and, worse, would measure each other: both load the same cores.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO

from bench.errors import BenchError


class RunLock:
    def __init__(self, work_dir: Path) -> None:
        self._path = work_dir / "run.lock"
        self._file: IO[str] | None = None

    def acquire(self) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        handle = self._path.open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            handle.close()
            raise BenchError(f"another bench run (pid {holder}) is using {self._path.parent}; wait for it") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._file = handle

    def release(self) -> None:
        # The kernel drops the lock when the file closes (also if this process dies).
        if self._file is not None:
            self._file.close()
            self._file = None
