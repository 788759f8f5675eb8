"""./gateway export: the Ignition project zip has the 8.3 resource layout, compiles under Jython 2.7
and passes iglint without errors; the 8.1 zip carries the same library. Both carry the Perspective views and the page
configuration of gateway_scripts/ignition/perspective (tests/jython/test_perspective_views.py runs them)."""
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile

import pytest

from conftest import ROOT, run_gateway

NAME = "exchange-workflows"
EVENTS = {  # resource folder -> (script file, canonical first line)
    "ignition/startup": ("onStartup.py", "def onStartup():"),
    "ignition/shutdown": ("onShutdown.py", "def onShutdown():"),
    "ignition/timer/exchange_workflows_dispatch": ("handleTimerEvent.py", "def handleTimerEvent():"),
    "ignition/tag-change/exchange_workflows_start_demo": (
        "onTagChange.py", "def onTagChange(initialChange, newValue, previousValue, event, executionCount):"),
}
IGLINT = os.path.join(os.path.dirname(sys.executable), "iglint")
PERSPECTIVE = os.path.join(ROOT, "gateway_scripts", "ignition", "perspective")
PERSPECTIVE_DIR = "com.inductiveautomation.perspective/"
VIEWS = ("Admin", "CommandButton", "Nav", "ParamField", "Queues", "Run", "Runs", "Start", "Steps")
ROUTES = {"/workflows": "Start", "/workflows/runs": "Runs", "/workflows/runs/:uuid": "Run",
          "/workflows/runs/:uuid/steps": "Steps", "/workflows/queues": "Queues", "/workflows/admin": "Admin"}


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    """Run ./gateway export into a private build directory; the two zips, unpacked."""
    out = tmp_path_factory.mktemp("export")
    result = run_gateway(["export", "-PignitionBuildDir=%s" % out], timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    zips = {"8.3": out / "ignition" / (NAME + ".zip"), "8.1": out / "ignition" / (NAME + "-8.1.zip")}
    trees = {}
    for version, path in zips.items():
        assert path.is_file(), result.stdout + result.stderr
        with zipfile.ZipFile(str(path)) as archive:
            names = [n for n in archive.namelist() if not n.endswith("/")]  # files, not folder entries
            tree = out / ("unpacked-" + version) / "projects" / NAME
            archive.extractall(str(tree))
        trees[version] = (tree, names)
    return trees


def _library_modules():
    """Every module of the exchange package, as its path without .py (packages are folders, not modules)."""
    found = []
    for folder, _, files in os.walk(os.path.join(ROOT, "exchange")):
        for name in files:
            if name.endswith(".py") and name != "__init__.py":
                found.append(os.path.relpath(os.path.join(folder, name), ROOT)[:-3].replace(os.sep, "/"))
    return sorted(found)


def test_the_zip_is_an_ignition_83_project_with_a_resource_per_module(export):
    tree, names = export["8.3"]
    project = json.loads((tree / "project.json").read_text())
    assert project == {"title": "exchange.workflows",
                       "description": "Durable, operator-controllable workflows (exchange.workflows)",
                       "enabled": True, "inheritable": False, "parent": ""}
    assert "project.json" in names
    modules = _library_modules()
    assert "exchange/workflows/api/service" in modules and "exchange/workflows/host/ignition" in modules
    library = sorted(set(n.rsplit("/", 1)[0][len("ignition/script-python/"):] for n in names
                         if n.startswith("ignition/script-python/")))
    assert library == modules
    for module in modules:
        folder = tree / "ignition" / "script-python" / module
        assert sorted(os.listdir(str(folder))) == ["code.py", "resource.json"], module
        with open(os.path.join(ROOT, module + ".py"), encoding="utf-8") as handle:
            assert (folder / "code.py").read_text(encoding="utf-8") == handle.read()
        resource = json.loads((folder / "resource.json").read_text())
        assert (resource["scope"], resource["version"], resource["files"]) == ("A", 1, ["code.py"]), module
        assert resource["attributes"]["hintScope"] == 2
        assert "lastModificationSignature" not in resource["attributes"]  # the gateway computes it
    for folder, dirs, files in os.walk(str(tree / "ignition" / "script-python")):
        if dirs:  # a package folder: with a code.py of its own it would hide its children (iglint SCR304)
            assert files == [], folder
    assert not [n for n in names if "__init__" in n or "/test" in n or "conftest" in n or n.endswith(".pyc")
                or "$py.class" in n or "__pycache__" in n]


def test_the_gateway_events_are_83_file_resources_made_from_gateway_scripts(export):
    tree, names = export["8.3"]
    found = sorted(set(n.rsplit("/", 1)[0] for n in names if n.startswith("ignition/")
                       and not n.startswith("ignition/script-python/")))
    assert found == sorted(EVENTS)
    for folder, (script, header) in EVENTS.items():
        assert sorted(os.listdir(str(tree / folder))) == sorted([script, "resource.json"])
        text = (tree / folder / script).read_text()
        source = os.path.join(ROOT, "gateway_scripts", folder, script)
        with open(source) as handle:
            assert text == handle.read()
        lines = text.splitlines()
        assert lines[0] == header
        assert all(line.startswith("\t") for line in lines[1:] if line.strip()), "the Designer indents with tabs"
        resource = json.loads((tree / folder / "resource.json").read_text())
        assert (resource["scope"], resource["files"]) == ("G", [script])
    timer = json.loads((tree / "ignition/timer/exchange_workflows_dispatch/resource.json").read_text())["attributes"]
    assert (timer["enabled"], timer["delay"], timer["fixedDelay"], timer["sharedThread"]) == (True, 1000, True, False)
    assert "exchange.workflows.api.service.dispatch()" in (
        tree / "ignition/timer/exchange_workflows_dispatch/handleTimerEvent.py").read_text()
    tag = json.loads((tree / "ignition/tag-change/exchange_workflows_start_demo/resource.json").read_text())
    assert tag["attributes"]["paths"] and tag["attributes"]["changeTypes"] == ["ValueChange"]
    assert "startDebouncedInMemory(" in (tree / "ignition/tag-change/exchange_workflows_start_demo/onTagChange.py").read_text()
    assert "admin.startGateway(" in (tree / "ignition/startup/onStartup.py").read_text()
    assert "admin.stopGateway()" in (tree / "ignition/shutdown/onShutdown.py").read_text()


def test_the_81_zip_has_the_same_library_and_views_and_no_83_event_resources(export):
    tree83, names83 = export["8.3"]
    tree81, names81 = export["8.1"]
    assert sorted(n for n in names81 if not n.endswith("resource.json")) == sorted(
        n for n in names83 if (n.startswith("ignition/script-python/") or n.startswith(PERSPECTIVE_DIR))
        and not n.endswith("resource.json") or n == "project.json")
    assert not [n for n in names81 if n.startswith("ignition/") and not n.startswith("ignition/script-python/")]
    for name in names81:
        if name.startswith(PERSPECTIVE_DIR):
            assert (tree81 / name).read_bytes() == (tree83 / name).read_bytes() or name.endswith("resource.json")


def _resource(folder, files):
    resource = json.loads((folder / "resource.json").read_text())
    assert (resource["scope"], resource["version"], resource["files"]) == ("G", 1, files), folder
    assert resource["restricted"] is False and resource["overridable"] is True
    assert resource["attributes"]["lastModification"]["actor"] == "exchange.workflows build"
    assert "lastModificationSignature" not in resource["attributes"]  # the gateway computes it


def test_both_zips_carry_the_perspective_views_and_page_configuration_as_resources(export):
    for version in ("8.3", "8.1"):
        tree, names = export[version]
        perspective = sorted(n for n in names if n.startswith(PERSPECTIVE_DIR))
        wanted = ["%spage-config/%s" % (PERSPECTIVE_DIR, f) for f in ("config.json", "resource.json")] + [
            "%sviews/Exchange/Workflows/%s/%s" % (PERSPECTIVE_DIR, v, f) for v in VIEWS
            for f in ("resource.json", "view.json")]
        assert perspective == sorted(wanted), perspective
        for view in VIEWS:
            folder = tree / PERSPECTIVE_DIR / "views" / "Exchange" / "Workflows" / view
            with open(os.path.join(PERSPECTIVE, "views", "Exchange", "Workflows", view, "view.json"),
                      encoding="utf-8") as handle:
                assert (folder / "view.json").read_text(encoding="utf-8") == handle.read(), view
            _resource(folder, ["view.json"])
            assert json.loads((folder / "view.json").read_text())["root"]["type"] == "ia.container.flex"
        folder = tree / PERSPECTIVE_DIR / "page-config"
        _resource(folder, ["config.json"])
        pages = json.loads((folder / "config.json").read_text())
        assert pages["sharedDocks"] == {}
        assert dict((r, p["viewPath"]) for r, p in pages["pages"].items()) == dict(
            (r, "Exchange/Workflows/" + v) for r, v in ROUTES.items())


COMPILE_ALL = r'''
import io, os, sys
failed = []
count = 0
for folder, _, files in os.walk(sys.argv[1]):
    for name in files:
        if name.endswith(".py"):
            path = os.path.join(folder, name)
            source = io.open(path, encoding="utf-8").read()  # Ignition keeps scripts as text
            try:
                compile(source, path, "exec")
                count += 1
            except SyntaxError as exc:
                failed.append("%s: %s" % (path, exc))
print("compiled %d" % count)
for line in failed:
    print("FAILED " + line)
sys.exit(1 if failed else 0)
'''


def test_every_exported_script_compiles_under_jython_27(export, tmp_path):
    script = tmp_path / "compile_all.py"
    script.write_text(COMPILE_ALL)
    for version in ("8.3", "8.1"):
        tree, names = export[version]
        result = run_gateway(["jython", str(script), str(tree)], timeout=300)
        assert result.returncode == 0, result.stdout + result.stderr
        expected = len([n for n in names if n.endswith(".py")])
        assert "compiled %d" % expected in result.stdout, result.stdout


def _iglint(projects_dir):
    return subprocess.run([IGLINT, "check", str(projects_dir), "--error-on", "error", "--no-cache"],
                          capture_output=True, text=True, timeout=300)


def test_iglint_reports_no_errors_on_the_export(export, tmp_path):
    assert subprocess.run([IGLINT, "--version"], capture_output=True, text=True).stdout.split() == ["iglint", "0.1.0"]
    for version in ("8.3", "8.1"):
        tree, _ = export[version]
        result = _iglint(tree.parent)
        assert result.returncode == 0, result.stdout + result.stderr
        assert not re.search(r"\[error\]", result.stdout), result.stdout
    # iglint reads our event resources: a wrong handler header in a copy is an error
    broken = tmp_path / "projects"
    shutil.copytree(str(export["8.3"][0]), str(broken / NAME))
    timer = broken / NAME / "ignition/timer/exchange_workflows_dispatch/handleTimerEvent.py"
    timer.write_text(timer.read_text().replace("def handleTimerEvent():", "def handleTimerEvent(event):", 1))
    result = _iglint(broken)
    assert result.returncode == 1 and "SCR301" in result.stdout, result.stdout
    # and our views: a view script that calls a function the Perspective module does not have is an error
    shutil.rmtree(str(broken))
    shutil.copytree(str(export["8.3"][0]), str(broken / NAME))
    admin = broken / NAME / PERSPECTIVE_DIR / "views/Exchange/Workflows/Admin/view.json"
    text = admin.read_text()
    assert "perspective.adminAction(" in text
    admin.write_text(text.replace("perspective.adminAction(", "perspective.adminActions(", 1))
    result = _iglint(broken)
    assert result.returncode == 1 and "REF002" in result.stdout and "adminActions" in result.stdout, result.stdout
