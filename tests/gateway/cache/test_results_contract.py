"""The result store contract, run against every result store: disk, S3 (moto server), memory, and none."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway.cache.disk import DiskResultStore
from gateway.cache.memory_results import MemoryResultStore
from gateway.cache.results import NullResultStore, ResultStore
from gateway.cache.s3 import S3ResultStore
from gateway.sources.s3 import S3OriginSettings
from tests.gateway.cache.results_contract import ResultStoreContract
from tests.support.moto_server import DUMMY_KEY_ID, DUMMY_SECRET, new_bucket

# Which capabilities of the contract each backend has.
BACKENDS: dict[str, frozenset[str]] = {
    "disk": frozenset({"stores_entries"}),
    "s3": frozenset({"stores_entries"}),
    "memory": frozenset({"stores_entries"}),
    "none": frozenset(),
}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "results" not in metafunc.fixturenames:
        return
    needed = {marker.args[0] for marker in metafunc.definition.iter_markers("capability")}
    params = [
        pytest.param(name, id=name, marks=[pytest.mark.integration] if name == "s3" else [])
        for name, capabilities in BACKENDS.items()
        if needed <= capabilities
    ]
    metafunc.parametrize("results", params, indirect=True)


@pytest.fixture
async def results(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[ResultStore]:
    store: ResultStore
    if request.param == "disk":
        store = DiskResultStore(tmp_path / "results", 10_000_000)
    elif request.param == "s3":
        endpoint = request.getfixturevalue("moto_endpoint")
        location = S3OriginSettings(
            bucket=new_bucket(endpoint),
            prefix="results/",
            endpoint_url=endpoint,
            access_key_id=DUMMY_KEY_ID,
            secret_access_key=DUMMY_SECRET,
        )
        store = S3ResultStore(location)
    elif request.param == "memory":
        store = MemoryResultStore()
    else:
        store = NullResultStore()
    try:
        yield store
    finally:
        await store.aclose()


class TestResultStores(ResultStoreContract):
    pass
