"""pytest fixtures of the multi-gateway tests; a test module imports the ones it uses.

    from multi.fixtures import cluster  # noqa: F401 - a fixture

cluster          gateways on the session's PostgreSQL database (emptied before the test, see tests/conftest.py)
private_cluster  gateways on a private PostgreSQL instance the test may stop and restart (see private_pg.py)
"""
import uuid

import pytest

from multi import private_pg
from multi.cluster import Cluster


@pytest.fixture
def cluster(pg_url, tmp_path):
    with Cluster(pg_url, tmp_path) as running:
        yield running


@pytest.fixture
def private_pg_server():
    if not private_pg.available():
        pytest.skip("PostgreSQL 15 server binaries not found in %s" % private_pg.BIN)
    server = private_pg.PrivatePostgres().start()
    try:
        yield server
    finally:
        server.destroy()


@pytest.fixture
def private_cluster(private_pg_server, tmp_path):
    url = private_pg_server.create_database("wf_private_%s" % uuid.uuid4().hex[:8])
    with Cluster(url, tmp_path) as running:
        running.server = private_pg_server
        yield running
