"""`make bench` entry point: python bench/run.py [--corpus DIR] [--quick] [--duration S] [--repeats N]
[--only WORKLOAD,...]. See bench/__init__.py."""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, Python puts bench/ itself on sys.path; the harness imports itself as the `bench`
# package, so the repository root has to be there instead.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import main  # noqa: E402 - needs the path set up above

if __name__ == "__main__":
    sys.exit(main())
