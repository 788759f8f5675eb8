"""./gateway console runs a script as Ignition's Designer script console would: through the Ignition host over the
`system` fake, in designer scope, writing rows only (a running gateway executes them)."""
import os
import re
import sqlite3

from conftest import CONSOLE_START_SCRIPT, ROOT, run_gateway


def test_the_console_snippet_from_a_file_writes_the_run_and_executes_nothing(tmp_path):
    script = tmp_path / "start.py"
    script.write_text(CONSOLE_START_SCRIPT + 'print "scope", exchange.workflows.host.runtime.engine().host.scope\n'
                      'print "workers", exchange.workflows.host.runtime.engine().pool_size\n'
                      'print "maintenance", exchange.workflows.api.admin.maintenanceStatus()["code"]\n')
    db = tmp_path / "workflows.db"
    result = run_gateway(["console", str(script), "--db", "sqlite:%s" % db], timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "'code': 'WORKFLOW_ENQUEUED'" in result.stdout and "only writes rows" in result.stdout, result.stdout
    assert "'executesHere': False" in result.stdout
    assert "scope designer" in result.stdout and "workers 0" in result.stdout, result.stdout
    assert "maintenance NOT_GATEWAY_SCOPE" in result.stdout, result.stdout
    wid = re.search(r"'workflowId': u?'([0-9a-f-]{36})'", result.stdout).group(1)
    with sqlite3.connect(str(db)) as conn:
        rows = conn.execute("SELECT status, partition_key, executor_id FROM workflow_status WHERE workflow_uuid = ?",
                            (wid,)).fetchall()
    assert rows == [("ENQUEUED", "line-1/reactor-a", None)]


def test_without_db_the_console_uses_the_default_sqlite_file():
    env = {"WORKFLOWS_DB": ""}
    script = ('info = system.db.getConnectionInfo("Workflows")\n'
              'print "connection", info.getValueAt(0, "DBType"), info.getValueAt(0, "Description")\n')
    result = run_gateway(["console", "-"], env=env, input_text=script, timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr
    expected = os.path.join(ROOT, "var", "workflows.db")
    assert "connection SQLITE fake connection to sqlite:%s" % expected in result.stdout, result.stdout
