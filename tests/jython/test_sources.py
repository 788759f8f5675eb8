"""Every module of the script library and the console imports under Jython 2.7, with the Ignition shim on the path
(tests/test_layers.py checks the same under CPython 3). Only the CPython worker kernel is left out: it is the host
adapter for CPython's concurrent.futures, which Jython has not."""
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CPYTHON_ONLY = set(["exchange.workflows.host.kernel_py"])


def _module_names():
    names = []
    for top in ("exchange", "workflows_api"):
        for folder, _, files in os.walk(os.path.join(ROOT, top)):
            for name in sorted(files):
                if name.endswith(".py") and name not in ("__init__.py", "__main__.py"):
                    relative = os.path.relpath(os.path.join(folder, name[:-3]), ROOT)
                    names.append(relative.replace(os.sep, "."))
    return sorted(names)


def _ours(name):
    return name.split(".")[0] in ("exchange", "workflows_api")


def test_every_module_imports_under_jython():
    """Imported afresh (a demo module registers workflows), then this interpreter's modules are put back."""
    names = _module_names()
    assert "exchange.workflows.api.service" in names and "workflows_api.server" in names
    saved = dict([(name, module) for name, module in sys.modules.items() if _ours(name)])
    failed = []
    try:
        for name in list(sys.modules):
            if _ours(name):
                del sys.modules[name]
        for name in names:
            if name not in CPYTHON_ONLY:
                try:
                    __import__(name)
                except Exception as error:
                    failed.append("%s: %r" % (name, error))
    finally:
        for name in list(sys.modules):
            if _ours(name):
                del sys.modules[name]
        sys.modules.update(saved)
    assert failed == [], failed
