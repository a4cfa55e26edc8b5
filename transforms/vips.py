"""libvips set-up and hardening, once per process before the first image.

Images are hostile input, so the defaults are tightened:
- the operation cache is off: it would keep decoded pixels of one tenant's image in memory keyed by
  the source bytes, and it costs memory the result caches use better;
- every loader is blocked except the seven families ``transforms.sniff`` lets through (libvips'
  documented allow-list pattern), and loaders libvips itself marks untrusted stay blocked;
- libvips' own threads are kept low: the gateway scales out with processes and a small thread
  pool each (measured: 2 processes at concurrency 1 beat 1 process at 2 on 2 cores).

SVG is a decision, not a default: libvips marks its SVG loader untrusted (librsvg is a large parser),
and ``block_untrusted_set`` alone would refuse it. We unblock it because DESIGN.md serves SVG sources,
and it is contained: the header pixel budget applies to its nominal size, files over 10 MB are refused
(svgload without ``unlimited``), and librsvg, loading from memory with no base file, refuses every
reference that is not a ``data:`` URL, so ``<image href="http://…">`` renders as nothing and makes no
request (tests/transforms/test_hostile.py). ``allow_svg=False`` turns SVG sources into a 415.
"""

from __future__ import annotations

import pyvips

# Class names of the loaders we allow; blocking a class blocks its file/buffer/source subclasses.
ALLOWED_LOADERS = (
    "VipsForeignLoadJpeg",
    "VipsForeignLoadPng",
    "VipsForeignLoadWebp",
    "VipsForeignLoadNsgif",
    "VipsForeignLoadHeif",
    "VipsForeignLoadTiff",
)
SVG_LOADER = "VipsForeignLoadSvg"

# How hard a decoder error must be before a load fails: "error" refuses truncated and corrupt data
# but lets through the harmless warnings (extraneous bytes before a marker) real cameras produce.
FAIL_ON = "error"


def configure(concurrency: int, cache_off: bool = True, *, allow_svg: bool = True) -> None:
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    pyvips.concurrency_set(concurrency)
    if cache_off:
        pyvips.cache_set_max(0)
        pyvips.cache_set_max_mem(0)
        pyvips.cache_set_max_files(0)
    pyvips.block_untrusted_set(True)
    pyvips.operation_block_set("VipsForeignLoad", True)
    for loader in ALLOWED_LOADERS:
        pyvips.operation_block_set(loader, False)
    pyvips.operation_block_set(SVG_LOADER, not allow_svg)
