"""README.md, Install in Ignition: the scripts to paste in Ignition 8.1 are exactly the bodies of the gateway event scripts
that the 8.3 export ships (gateway_scripts/ignition), and the console example is the one users rely on."""
import os
import re

from conftest import ROOT

DOC = os.path.join(ROOT, "README.md")
SOURCES = {
    "startup": "startup/onStartup.py",
    "shutdown": "shutdown/onShutdown.py",
    "timer": "timer/exchange_workflows_dispatch/handleTimerEvent.py",
    "tag-change": "tag-change/exchange_workflows_start_demo/onTagChange.py",
}


def _doc():
    with open(DOC, encoding="utf-8") as handle:
        return handle.read()


def _body(relative):
    """What the 8.1 Designer shows: the script without its header line, one tab of indentation less."""
    with open(os.path.join(ROOT, "gateway_scripts", "ignition", relative), encoding="utf-8") as handle:
        lines = handle.read().splitlines()
    assert lines[0].startswith("def ")
    return "\n".join(line[1:] if line.startswith("\t") else line for line in lines[1:])


def test_the_81_paste_blocks_are_the_event_script_bodies():
    blocks = dict(re.findall(r"<!-- paste: ([a-z-]+) -->\n```python\n(.*?)\n```", _doc(), re.S))
    assert sorted(blocks) == sorted(SOURCES)
    for name, relative in SOURCES.items():
        assert blocks[name] == _body(relative), name


def test_the_guide_has_the_install_sections_an_integrator_needs():
    text = _doc()
    for heading in ("## Install in Ignition", "### 2. The PostgreSQL JDBC driver", "### 3. The database connection",
                    "### 4. Import the project (Ignition 8.3)", "### Ignition 8.1", "## Register your own workflows",
                    "## Deploy new code (drain and resume)"):
        assert heading in text, heading
    assert 'workflowName="demo.commands_60s",\n    inputs={"resolved": {"paramOne": "BATCH-001", "paramTwo": "AUTO"}},' in text
    assert "./gateway export" in text and "exchange-workflows-8.1.zip" in text
