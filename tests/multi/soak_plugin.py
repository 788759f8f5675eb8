"""pytest plugin: the --soak option, which turns on the long soak variants (tests marked `soak`).

Loaded from the root conftest (`pytest_plugins = ["multi.soak_plugin"]`) or on the command line
(`-p tests.multi.soak_plugin`); WORKFLOWS_SOAK=1 turns the soak variants on without it.
"""
import os


def pytest_addoption(parser):
    parser.addoption("--soak", action="store_true", default=False,
                     help="run the long soak variants (tests marked soak), e.g. tests/test_multi_soak.py")


def enabled(config):
    return bool(config.getoption("soak", default=False)) or os.environ.get("WORKFLOWS_SOAK") == "1"
