"""The documentation in the repository: docs/ignition.md's scripts to paste in Ignition 8.1 are exactly the bodies of
the gateway event scripts that the 8.3 export ships (gateway_scripts/ignition), the install guide has the sections an
integrator needs, the README's console example is the one users rely on, and README.md and docs/ stay self-contained
(every relative link resolves, nothing points outside the repository) with the README kept short."""
import glob
import os
import re

from conftest import ROOT

README = os.path.join(ROOT, "README.md")
INSTALL_GUIDE = os.path.join(ROOT, "docs", "ignition.md")
SOURCES = {
    "startup": "startup/onStartup.py",
    "shutdown": "shutdown/onShutdown.py",
    "timer": "timer/exchange_workflows_dispatch/handleTimerEvent.py",
    "tag-change": "tag-change/exchange_workflows_start_demo/onTagChange.py",
}
README_MAX_LINES = 260
# [text](target) and ![alt](target); the target ends at whitespace or the closing parenthesis
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")


def _read(path):
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def _documents():
    return [README] + sorted(glob.glob(os.path.join(ROOT, "docs", "*.md")))


def _body(relative):
    """What the 8.1 Designer shows: the script without its header line, one tab of indentation less."""
    lines = _read(os.path.join(ROOT, "gateway_scripts", "ignition", relative)).splitlines()
    assert lines[0].startswith("def ")
    return "\n".join(line[1:] if line.startswith("\t") else line for line in lines[1:])


def _without_code_blocks(text):
    return re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)


def _without_code(text):
    """The text outside fenced code blocks and inline code spans, where a link is a link."""
    return re.sub(r"`[^`\n]*`", "", _without_code_blocks(text))


def _anchors(text):
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens."""
    return set(re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
               for heading in re.findall(r"^#+ (.+)$", _without_code_blocks(text), re.M))


def test_the_81_paste_blocks_are_the_event_script_bodies():
    blocks = dict(re.findall(r"<!-- paste: ([a-z-]+) -->\n```python\n(.*?)\n```", _read(INSTALL_GUIDE), re.S))
    assert sorted(blocks) == sorted(SOURCES)
    for name, relative in SOURCES.items():
        assert blocks[name] == _body(relative), name


def test_the_startup_script_points_to_the_install_guide():
    assert "docs/ignition.md" in _body(SOURCES["startup"])


def test_the_install_guide_has_the_sections_an_integrator_needs():
    text = _read(INSTALL_GUIDE)
    for heading in ("## Install in Ignition", "### 2. The PostgreSQL JDBC driver", "### 3. The database connection",
                    "### 4. Import the project (Ignition 8.3)", "### Ignition 8.1", "## Register your own workflows",
                    "## Deploy new code (drain and resume)"):
        assert heading in text, heading
    assert "./gateway export" in text and "exchange-workflows-8.1.zip" in text


def test_the_readme_shows_the_console_example_users_rely_on():
    text = _read(README)
    assert 'workflowName="demo.commands_60s",\n    inputs={"resolved": {"paramOne": "BATCH-001", "paramTwo": "AUTO"}},' in text
    for command in ('cmd="HOLD"', 'cmd="RESUME"', 'cmd="STOP"'):
        assert command in text, command


def test_every_relative_link_in_the_docs_points_to_an_existing_file_and_heading():
    broken = []
    for path in _documents():
        text = _read(path)
        for target in LINK.findall(_without_code(text)):
            if re.match(r"[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto: ...
                continue
            name, _, anchor = target.partition("#")
            linked = os.path.normpath(os.path.join(os.path.dirname(path), name)) if name else path
            if not os.path.exists(linked):
                broken.append("%s: %s (no such file)" % (os.path.relpath(path, ROOT), target))
            elif anchor and linked.endswith(".md") and anchor not in _anchors(_read(linked)):
                broken.append("%s: %s (no such heading)" % (os.path.relpath(path, ROOT), target))
    assert not broken, broken


def test_the_docs_point_to_nothing_outside_the_repository():
    """Every relative path a document names (a link or a path in its text) stays inside the repository, and every
    Markdown file it names is one the repository holds: what users need is written here, not in notes they never
    get."""
    for path in _documents():
        text = _read(path)
        for named in re.findall(r"[\w./-]*\w\.md\b", text):
            here = os.path.normpath(os.path.join(os.path.dirname(path), named))
            assert os.path.exists(here) or os.path.exists(os.path.join(ROOT, named)), (
                "%s names %s, which the repository does not hold" % (os.path.relpath(path, ROOT), named))
        for target in re.findall(r"(?:\.\./)+[\w./-]*", text):
            resolved = os.path.normpath(os.path.join(os.path.dirname(path), target))
            assert resolved == ROOT or resolved.startswith(ROOT + os.sep), "%s points outside the repository: %s" % (
                os.path.relpath(path, ROOT), target)


def test_the_readme_stays_a_short_front_door():
    with open(README, encoding="utf-8") as handle:
        count = len(handle.read().splitlines())
    assert count <= README_MAX_LINES, "README.md has %d lines (at most %d)" % (count, README_MAX_LINES)
