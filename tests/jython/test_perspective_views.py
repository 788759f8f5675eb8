"""The Perspective views of exchange.workflows (gateway_scripts/ignition/perspective) held to the code they bind to,
under Jython 2.7 and without a gateway.

Every view.json and the page configuration are loaded: the routes are the ones the docs name, under /workflows, and
each serves a view that declares the route's parameters. Every script of every view (script transforms, component
event scripts, property change scripts, message handlers) is compiled the way Ignition compiles it, inside the
function header Ignition gives it, and every runScript(...) call of every expression is parsed: the function it names
exists in exchange.workflows.api.perspective, takes the arguments passed, and polls at the documented rate.

Then, against a real engine (the standalone host on PostgreSQL) and a fake session (user and roles), each runScript
call is made with the arguments its view passes, the answers are checked against what the views read from them
(every property reference, every Table column, every Flex Repeater instance), and every script runs with a fake
`self` and `event`: a form filled in field by field starts a run as the session's user, the command buttons hold,
resume and stop a running run as the session's user (the run's command log says who), a retry opens the new run, the
log table appends only what is new, and the admin buttons drain and resume the gateway. Each script runs at least
once. Navigation and messages go through the fake system.perspective (gateway_scripts/shim/system.py).
"""
import copy
import inspect
import io
import json
import os
import re

from harness import ROOT, fixture, wait_for, wait_status

SOURCES = os.path.join(ROOT, "gateway_scripts", "ignition", "perspective")
VIEWS = "Exchange/Workflows/"
PREFIX = "/workflows"
ROUTES = {
    PREFIX: "Start", PREFIX + "/runs": "Runs", PREFIX + "/runs/:uuid": "Run", PREFIX + "/runs/:uuid/steps": "Steps",
    PREFIX + "/queues": "Queues", PREFIX + "/admin": "Admin",
}
MODULE = "exchange.workflows.api.perspective"
HEADERS = {  # the function Ignition wraps each kind of script in
    "transform": "def transform(self, value, quality, timestamp):",
    "action": "def runAction(self, event):",
    "change": "def valueChanged(self, previousValue, currentValue, origin, missedEvents):",
    "message": "def onMessageReceived(self, payload):",
}
COMPONENTS = frozenset([  # components that ship with Perspective
    "ia.container.flex", "ia.container.column", "ia.display.label", "ia.display.table", "ia.display.markdown",
    "ia.display.view", "ia.display.flex-repeater", "ia.input.button", "ia.input.dropdown", "ia.input.text-field",
    "ia.input.numeric-entry-field", "ia.input.checkbox", "ia.shapes.svg", "ia.chart.xy"])
RATES = {  # the function each binding calls -> the POLL_MS entry it polls at (0: evaluated when its arguments change)
    "workflowOptions": None, "startForm": None, "runsPage": "runs", "runDetails": "run", "commandButtons": "run",
    "commandLog": "run", "runLog": "log", "stepsPage": "steps", "timeline": "steps", "queuesTable": "queues",
    "adminOverview": "admin"}
OTTO = ("otto", ["Operator"])  # the session's roles count by name, in any case
SAM = ("sam", ["Supervisor"])
ADA = ("ada", ["Admin"])
VERA = ("vera", ["Viewer"])


# -- reading the views -------------------------------------------------------------------------------------------------

def _json(path):
    with io.open(path, encoding="utf-8") as handle:
        return json.loads(handle.read())


def load_views():
    """{"Exchange/Workflows/Run": view, ...} from views/<path>/view.json."""
    base = os.path.join(SOURCES, "views")
    found = {}
    for folder, _, files in os.walk(base):
        if "view.json" in files:
            found[os.path.relpath(folder, base).replace(os.sep, "/")] = _json(os.path.join(folder, "view.json"))
    return found


def components(node, path=()):
    """(path of names, component) of a component and everything below it."""
    here = path + (node["meta"]["name"],)
    yield here, node
    for child in node.get("children", []):
        for item in components(child, here):
            yield item


class Script(object):
    def __init__(self, view, kind, where, code, owner):
        self.view, self.kind, self.where, self.code, self.owner = view, kind, where, code, owner
        self.key = "%s %s" % (view, where)


class Binding(object):
    """A binding of a view: its target ('custom.page', 'props.text'), owner (None: the view) and configuration."""

    def __init__(self, view, owner, target, binding):
        self.view, self.owner, self.target, self.binding = view, owner, target, binding
        self.kind = binding["type"]

    def expressions(self):
        config = self.binding["config"]
        found = [t["expression"] for t in self.binding.get("transforms", []) if t["type"] == "expression"]
        if self.kind == "expr":
            found.append(config["expression"])
        if self.kind == "expr-struct":
            found.extend(config["struct"].values())
        return found


def _prop_config(view_name, owner, config, scripts, bindings):
    where = "/".join(owner) if owner else "view"
    for target, entry in sorted(config.items()):
        if "binding" in entry:
            bindings.append(Binding(view_name, owner, target, entry["binding"]))
            for index, transform in enumerate(entry["binding"].get("transforms", [])):
                assert transform["type"] in ("script", "expression", "map", "format"), transform
                if transform["type"] == "script":
                    scripts.append(Script(view_name, "transform", "%s %s transform %d" % (where, target, index),
                                          transform["code"], owner))
        if entry.get("onChange"):
            scripts.append(Script(view_name, "change", "%s %s onChange" % (where, target), entry["onChange"]["script"],
                                  owner))


def collect(view_name, view):
    """The scripts and the bindings of one view."""
    scripts, bindings = [], []
    assert not view.get("events"), "%s: view events are not covered by this test yet" % view_name
    _prop_config(view_name, None, view.get("propConfig", {}), scripts, bindings)
    for path, node in components(view["root"]):
        where = "/".join(path)
        _prop_config(view_name, path, node.get("propConfig", {}), scripts, bindings)
        for group in node.get("events", {}).values():
            for event, actions in sorted(group.items()):
                for index, act in enumerate(actions if isinstance(actions, list) else [actions]):
                    if act["type"] == "script":
                        scripts.append(Script(view_name, "action", "%s %s %d" % (where, event, index),
                                              act["config"]["script"], path))
        extra = node.get("scripts", {})
        assert not extra.get("customMethods") and not extra.get("extensionFunctions"), where
        for handler in extra.get("messageHandlers", []):
            scripts.append(Script(view_name, "message", "%s message %s" % (where, handler["messageType"]),
                                  handler["script"], path))
    return scripts, bindings


# -- expressions: runScript calls and property references --------------------------------------------------------------

def split_call(text, start):
    """The top-level arguments of a call whose '(' ends at `start`, and the index after its ')'."""
    args, depth, quote, current, index = [], 0, None, "", start
    while index < len(text):
        char = text[index]
        if quote:
            if char == "\\":
                current += text[index:index + 2]
                index += 2
                continue
            if char == quote:
                quote = None
        elif char in "\"'":
            quote = char
        elif char in "({[":
            depth += 1
        elif char in ")}]":
            if depth == 0:
                args.append(current.strip())
                return [a for a in args if a], index + 1
            depth -= 1
        elif char == "," and depth == 0:
            args.append(current.strip())
            current = ""
            index += 1
            continue
        current += char
        index += 1
    raise AssertionError("unbalanced call in %r" % text)


def run_script_calls(expression):
    """[(function, poll rate, [argument expressions], whole call text)] of every runScript(...) in an expression."""
    calls = []
    for match in re.finditer(r"\brunScript\s*\(", expression):
        args, end = split_call(expression, match.end())
        assert len(args) >= 2, "runScript without a poll rate: %s" % expression
        assert re.match(r'^"[\w.]+"$', args[0]), "the function of runScript must be a literal name: %s" % args[0]
        assert re.match(r"^\d+$", args[1]), "the poll rate must be a literal: %s" % args[1]
        calls.append((args[0][1:-1], int(args[1]), args[2:], expression[match.start():end]))
    return calls


def poll(binding):
    """(function, poll rate, argument expressions or None) of a view custom binding that asks the module: a
    runScript(...) expression, or now(rate) with a script transform that calls one function of the module."""
    if binding.owner is not None or not binding.target.startswith("custom.") or binding.kind != "expr":
        return None
    expression = binding.binding["config"]["expression"].strip()
    calls = run_script_calls(expression)
    if calls:
        ((function, rate, args, call),) = calls
        assert expression == call, "runScript is the whole expression: %s" % expression
        assert function.startswith(MODULE + "."), function
        return function[len(MODULE) + 1:], rate, args
    match = re.match(r"^now\((\d+)\)$", expression)
    if match:
        codes = [t["code"] for t in binding.binding.get("transforms", []) if t["type"] == "script"]
        (function,) = set(re.findall(re.escape(MODULE) + r"\.(\w+)\(", "\n".join(codes)))
        return function, int(match.group(1)), None
    return None


def references(text):
    """The property references {a.b.c} of an expression (string literals left out)."""
    return re.findall(r"\{([^{}\"']+)\}", re.sub(r'"(?:[^"\\]|\\.)*"', '""', text))


def resolve(context, path):
    value = context
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            raise KeyError(path)
        value = value[part]
    return value


def argument(text, context):
    """A runScript argument: a property reference or a literal (nothing else keeps a binding this simple)."""
    text = text.strip()
    if text.startswith("{") and text.endswith("}"):
        return resolve(context, text[1:-1])
    if re.match(r'^"[^"\\]*"$', text):
        return text[1:-1]
    if re.match(r"^-?\d+$", text):
        return int(text)
    if text in ("true", "false", "null"):
        return {"true": True, "false": False, "null": None}[text]
    raise AssertionError("a runScript argument must be a property reference or a literal, not %r" % text)


def visible(expression, context):
    """meta.visible of the simple forms the views use ({ref} = "x", {ref} != "x", !{ref}), else True."""
    match = re.match(r'^\{([\w.]+)\}\s*(=|!=)\s*"([^"]*)"$', expression.strip())
    if match:
        equal = resolve(context, match.group(1)) == match.group(3)
        return equal if match.group(2) == "=" else not equal
    match = re.match(r"^!\{([\w.]+)\}$", expression.strip())
    if match:
        return not resolve(context, match.group(1))
    return True


# -- the fake session, views and components ----------------------------------------------------------------------------

class Tree(object):
    """A property container over a dict: attribute and item access, writes go to the dict."""

    def __init__(self, data):
        object.__setattr__(self, "_data", data)

    def _get(self, key, error):
        if key not in self._data:
            raise error(key)
        value = self._data[key]
        return Tree(value) if isinstance(value, dict) else value

    def __getattr__(self, key):
        return self._get(key, AttributeError)

    def __getitem__(self, key):
        return self._get(key, KeyError)

    def __setattr__(self, key, value):
        self._data[key] = value

    __setitem__ = __setattr__

    def get(self, key, default=None):
        return self._get(key, KeyError) if key in self._data else default


class Event(object):
    def __init__(self, **values):
        self.__dict__.update(values)


class Qualified(object):
    def __init__(self, value):
        self.value, self.quality, self.timestamp = value, "Good", None


class Component(object):
    def __init__(self, node, parent, page):
        self.page = page
        self.parent = parent
        self.view = page.stub
        self.session = page.stub.session
        self.meta = Tree(dict({"visible": True}, **copy.deepcopy(node["meta"])))
        self.props = Tree(copy.deepcopy(node.get("props", {})))
        self.custom = Tree(copy.deepcopy(node.get("custom", {})))
        self.children = [Component(child, self, page) for child in node.get("children", [])]

    def getChild(self, path):
        found = self
        for name in path.split("/"):
            found = [c for c in found.children if c.meta.name == name][0]
        return found

    def getSibling(self, name):
        return self.parent.getChild(name)


class ViewStub(object):
    def __init__(self, context):
        self.params = Tree(context["view"]["params"])
        self.custom = Tree(context["view"]["custom"])
        self.session = Tree(context["session"])


class Page(object):
    """One open view: its params and custom properties (initial values from view.json), the session, and stubs."""

    def __init__(self, suite, name, user, params=None):
        self.suite, self.name, self.view = suite, name, suite.views[VIEWS + name]
        view_params = copy.deepcopy(self.view.get("params", {}))
        view_params.update(copy.deepcopy(params or {}))
        self.context = {"view": {"params": view_params, "custom": copy.deepcopy(self.view.get("custom", {}))},
                        "session": {"props": {"auth": {"authenticated": True, "user": {
                            "userName": user[0], "roles": list(user[1])}}}}}
        self.custom = self.context["view"]["custom"]
        self.params = self.context["view"]["params"]
        self.stub = ViewStub(self.context)
        self.root = Component(self.view["root"], None, self)
        self.scripts, self.bindings = suite.collected[VIEWS + name]

    def component(self, path):
        found = self.root
        for name in path[1:]:
            found = [c for c in found.children if c.meta.name == name][0]
        return found

    def evaluate(self):
        """Every binding of a view custom property (twice: one binding may read what another answered): the module's
        functions called as each binding calls them, property and expression-structure bindings resolved, script
        transforms run."""
        for _ in range(2):
            for binding in [b for b in self.bindings if b.owner is None and b.target.startswith("custom.")]:
                config, asks = binding.binding["config"], poll(binding)
                if binding.kind == "property":
                    value = copy.deepcopy(resolve(self.context, config["path"]))
                elif binding.kind == "expr-struct":
                    value = dict([(k, argument(v, self.context)) for k, v in config["struct"].items()])
                else:
                    assert asks, "%s: %s asks nothing of %s" % (self.name, binding.target, MODULE)
                    function, _, args = asks
                    if args is not None:  # runScript
                        value = self.suite.call(function, [argument(a, self.context) for a in args], self.name)
                    else:  # now(rate): the time; the transform asks the module
                        value = 1700000000000
                for index, _ in enumerate(binding.binding.get("transforms", [])):
                    value = self.run("view %s transform %d" % (binding.target, index), value=value)
                if asks and asks[2] is None:
                    value = self.suite.answer(asks[0], value, self.name)
                self.custom[binding.target[len("custom."):]] = value
        for path, node in components(self.view["root"]):
            entry = node.get("propConfig", {}).get("meta.visible")
            if entry and entry["binding"]["type"] == "expr":
                self.component(path).meta.visible = visible(entry["binding"]["config"]["expression"], self.context)
        return self

    def script(self, where):
        found = [s for s in self.scripts if s.where == where]
        assert len(found) == 1, (self.name, where, [s.where for s in self.scripts])
        return found[0]

    def run(self, where, **args):
        """Run one script of this view as Ignition calls it; `self` is the component (or the view) it belongs to."""
        script = self.script(where)
        owner = self.component(script.owner) if script.owner else self.stub
        return self.suite.execute(script, owner, args)

    def click(self, path, **event):
        return self.run("%s onActionPerformed 0" % path, event=Event(**event))

    def deliver(self, calls):
        """The page-scoped messages sent so far, to this view's handlers of their type."""
        for call in calls:
            self.run("root message %s" % call["messageType"], payload=call["payload"])

    def check(self):
        self.suite.check_answers(self)
        return self


class Suite(object):
    """The views, their scripts and bindings, and what ran."""

    def __init__(self):
        from exchange.workflows.api import perspective

        self.perspective = perspective
        self.views = load_views()
        self.pages = _json(os.path.join(SOURCES, "page-config", "config.json"))
        self.collected = dict([(name, collect(name, view)) for name, view in self.views.items()])
        self.scripts = [s for name in sorted(self.collected) for s in self.collected[name][0]]
        self.executed = set()
        self.checked = set()
        self.functions = {}

    def call(self, function, args, view):
        return self.answer(function, getattr(self.perspective, function)(*args), view, args)

    def answer(self, function, answer, view, args=None):
        """What a property receives from the module: checked to be the documented answer, JSON-native."""
        assert isinstance(answer, dict) and answer.get("ok") is True, (view, function, args, answer)
        assert isinstance(answer.get("message"), basestring), (function, answer)
        self.functions.setdefault(function, answer)
        return json.loads(json.dumps(answer))  # JSON-native: what a property holds

    def compiled(self, script):
        import system

        import exchange.workflows.api.perspective  # noqa: F401 - library modules are attributes in Ignition

        source = HEADERS[script.kind] + "\n" + script.code
        namespace = {"system": system, "exchange": __import__("exchange")}
        exec(compile(source, "<%s>" % script.key, "exec"), namespace)
        return namespace[HEADERS[script.kind][4:].split("(")[0]]

    def execute(self, script, owner, args):
        fn = self.compiled(script)
        self.executed.add(script.key)
        if script.kind == "action":
            return fn(owner, args["event"])
        if script.kind == "message":
            return fn(owner, args["payload"])
        if script.kind == "change":
            return fn(owner, args.get("previousValue"), args["currentValue"], args.get("origin", "Browser"), False)
        return fn(owner, args["value"], "Good", None)

    def check_answers(self, page):
        """What the view reads from the answers exists in them: references into a runScript answer, Table columns,
        the parameters of Flex Repeater instances."""
        answered = set([b.target[len("custom."):] for b in page.bindings if poll(b)])
        paths = []
        for binding in page.bindings:
            for text in binding.expressions():
                paths.extend(references(text))
            if binding.kind == "property":
                paths.append(binding.binding["config"]["path"])
        for path in paths:
            parts = path.split(".")
            if parts[:2] == ["view", "custom"] and parts[2] in answered:
                value = page.custom[parts[2]]
                for part in parts[3:]:
                    if isinstance(value, list):
                        break
                    assert isinstance(value, dict) and part in value, "%s: %s is not in the answer %r" % (
                        page.name, path, value)
                    value = value[part]
        for path, node in components(page.view["root"]):
            binding = node.get("propConfig", {}).get
            if node["type"] == "ia.display.table":
                rows = resolve(page.context, binding("props.data")["binding"]["config"]["path"])
                for row in rows:
                    for column in node["props"]["columns"]:
                        assert column["field"] in row, (page.name, path, column["field"], row)
                if rows:
                    self.checked.add((page.name, path))
            if node["type"] == "ia.display.flex-repeater":
                items = resolve(page.context, binding("props.instances")["binding"]["config"]["path"])
                wanted = set(self.views[node["props"]["path"]]["params"]) - set(["index"])
                for item in items:
                    assert wanted <= set(item), (page.name, path, sorted(wanted - set(item)))
                if items:
                    self.checked.add((page.name, path))

    def tables_and_repeaters(self):
        return set([(name[len(VIEWS):], path) for name, view in self.views.items()
                    for path, node in components(view["root"])
                    if node["type"] in ("ia.display.table", "ia.display.flex-repeater")])


def route_of(url, pages):
    """The page route serving a URL (':name' segments match one segment), or None."""
    parts = url.split("/")
    for route in pages:
        wanted = route.split("/")
        if len(wanted) == len(parts) and all(w.startswith(":") or w == p for w, p in zip(wanted, parts)):
            return route
    return None


def calls(function=None):
    import system

    found = [c for c in system.fake.perspective_calls if function is None or c["function"] == function]
    del system.fake.perspective_calls[:]
    return found


def navigated(suite):
    """The page the last script navigated to (checked against the page configuration)."""
    (call,) = calls("navigate")
    assert route_of(call["page"], suite.pages["pages"]), call
    return call["page"]


# -- static checks -----------------------------------------------------------------------------------------------------

def test_the_routes_the_components_and_every_script_and_runscript_call(fake_system):
    from exchange.workflows.api import perspective

    suite = Suite()
    pages = suite.pages["pages"]
    assert suite.pages.get("sharedDocks") == {}
    assert dict([(r, p["viewPath"]) for r, p in pages.items()]) == dict(
        [(r, VIEWS + v) for r, v in ROUTES.items()]), sorted(pages)
    for route, page in pages.items():
        view = suite.views[page["viewPath"]]
        assert page.get("title"), route
        for name in [s[1:] for s in route.split("/") if s.startswith(":")]:
            assert name in view["params"] and view["propConfig"]["params." + name]["paramDirection"] == "input", route
    embedded = set()
    for name, view in suite.views.items():
        assert set(view) >= set(["custom", "params", "props", "root"]) and "defaultSize" in view["props"], name
        for param in view["params"]:
            assert view["propConfig"]["params." + param]["paramDirection"] in ("input", "inout"), (name, param)
        for path, node in components(view["root"]):
            assert node["type"] in COMPONENTS, (name, path, node["type"])
            if node["type"] == "ia.display.markdown":  # values from runs are text, never markup
                assert node["props"]["markdown"]["escapeHtml"] is True, (name, path)
            if node["type"] in ("ia.display.view", "ia.display.flex-repeater"):
                assert node["props"]["path"] in suite.views, (name, path)
                embedded.add(node["props"]["path"])
    assert set(suite.views) == set([p["viewPath"] for p in pages.values()]) | embedded, "a view nothing shows"

    assert len(suite.scripts) >= 20, len(suite.scripts)
    functions = set([n for n in dir(perspective) if not n.startswith("_") and callable(getattr(perspective, n))])
    fakes = set(["navigate", "sendMessage", "print", "login"])
    for script in suite.scripts:
        lines = script.code.split("\n")
        assert all(line.startswith("\t") for line in lines if line.strip()), "%s: indent with tabs" % script.key
        suite.compiled(script)  # compiles under Jython with Ignition's header
        for used in re.findall(r"\bexchange((?:\.\w+)+)", script.code):
            assert used.startswith(MODULE[len("exchange"):] + "."), "%s: only %s: %s" % (script.key, MODULE, used)
            assert used.split(".")[-1] in functions, (script.key, used)
        for used in re.findall(r"\bsystem((?:\.\w+)+)", script.code):
            module, name = used.split(".")[1:3]
            assert module == "perspective" and name in fakes, (script.key, used)
        for page in re.findall(r'navigate\("([^"]*)"\)', script.code):
            assert route_of(page, pages), (script.key, page)

    polled = set()
    for name, (_, bindings) in suite.collected.items():
        view = suite.views[name]
        for binding in bindings:
            for text in binding.expressions():
                for ref in references(text):
                    parts = ref.split(".")
                    if parts[0] == "view":
                        assert parts[1] in ("params", "custom") and parts[2] in view[parts[1]], (name, ref)
                    else:
                        assert parts[0] == "session" and parts[1] == "props", (name, ref)
                if run_script_calls(text):
                    assert poll(binding), "runScript only as the whole binding of a view custom property: %s %s" % (
                        name, binding.target)
            asks = poll(binding)
            if asks:
                function, rate, args = asks
                where = (name, binding.target, function)
                assert function in RATES, where
                key = RATES[function]
                assert rate == (perspective.POLL_MS[key] if key else 0), where
                if args is not None:  # runScript: the arguments the function takes
                    spec = inspect.getargspec(getattr(perspective, function))
                    assert len(spec.args) - len(spec.defaults or ()) <= len(args) <= len(spec.args), where
                    for arg in args:
                        assert re.match(r'^(\{[\w.]+\}|"[^"]*"|-?\d+)$', arg), where
                polled.add(function)
            if binding.kind == "property":
                parts = binding.binding["config"]["path"].split(".")
                assert parts[0] == "view" and parts[2] in view[parts[1]], (name, binding.target, parts)
    assert polled == set(RATES), sorted(set(RATES) - polled)


# -- against a real engine ---------------------------------------------------------------------------------------------

@fixture
def engine(fake_system, pg_url):
    """A started standalone-host engine on PostgreSQL with the jp.* workflows."""
    import sys

    sys.modules.pop("jy_perspective_workflows", None)
    import jy_perspective_workflows  # noqa: F401 - registers jp.*

    from exchange.workflows.engine.engine import Engine, EngineConfig
    from exchange.workflows.host import hosts, runtime

    host = hosts.standalone_host(pg_url, globals_map={})
    started = Engine(host, EngineConfig(executor_id="jy-perspective", tick_ms=50, workers=4))
    runtime.install(started)
    started.start()
    yield started
    started.stop(grace_s=5.0)
    host.close()
    runtime.uninstall()


def _service():
    from exchange.workflows.api import service

    return service


def _start_form(suite):
    """Start: choose a workflow and a template, change each field in the widget its type gets, start."""
    service = _service()
    start = Page(suite, "Start", OTTO).evaluate()
    assert "jp.typed" in [o["value"] for o in start.custom["options"]["options"]]
    start.custom["workflow"], start.custom["template"] = "jp.typed", "default"
    start.run("view custom.workflow onChange", currentValue=Qualified("jp.typed"))
    assert start.custom["template"] == ""
    start.custom["template"] = "default"
    start.evaluate().check()
    fields = start.custom["fields"]
    assert [f["name"] for f in fields] == ["batch", "size", "ratio", "enabled", "mode", "recipe"], fields
    edits = {"batch": ("text", "Text", u"B-77 <i>x</i>"), "size": ("number", "Number", 7.0),
             "ratio": ("number", "Number", 0.25), "enabled": ("check", "Check", False),
             "mode": ("choice", "Choice", "AUTO"), "recipe": ("text", "Text", u'{"temp": 90}')}
    widgets = {"Text": "props.text", "Number": "props.value", "Check": "props.selected", "Choice": "props.value"}
    for index, field in enumerate(fields):
        kind, widget, value = edits[field["name"]]
        one = Page(suite, "ParamField", OTTO, dict(field, index=index)).evaluate()
        assert one.custom["kind"] == kind, (field, one.custom["kind"])
        options = one.run("root/Choice props.options transform 0", value=one.params["choices"])
        assert options == [{"value": c, "label": c} for c in field["choices"]]
        for name, target in sorted(widgets.items()):  # every widget reports a change; only the shown one sends it
            one.run("root/%s %s onChange" % (name, target), currentValue=Qualified(value if name == widget else None))
        sent = calls("sendMessage")
        assert [(c["messageType"], c["scope"], c["payload"]) for c in sent] == [
            ("exchange-workflows-field", "page", {"index": index, "name": field["name"], "value": value})], sent
        start.deliver(sent)
    start.click("root/Actions/Start")
    page = navigated(suite)
    wid = page.split("/")[-1]
    run = service.getWorkflow(workflowId=wid)["data"]
    assert run["createdBy"] == "otto", run
    assert run["inputs"]["resolved"] == {"batch": u"B-77 <i>x</i>", "size": 7, "ratio": 0.25, "enabled": False,
                                         "mode": "AUTO", "recipe": {"temp": 90}}, run["inputs"]
    refused = Page(suite, "Start", VERA).evaluate()
    refused.custom["workflow"] = "jp.typed"
    refused.evaluate().click("root/Actions/Start")
    assert "may not start" in refused.custom["message"] and calls("navigate") == []
    return wid


def _runs_page(suite, slow):
    runs = Page(suite, "Runs", OTTO).evaluate().check()
    assert slow in [r["workflowId"] for r in runs.custom["page"]["rows"]]
    runs.custom["edit"]["workflow"] = "jp.slow"
    runs.click("root/Filters/Filter")
    assert runs.custom["filter"]["workflow"] == "jp.slow" and runs.custom["cursor"] == ""
    rows = runs.evaluate().check().custom["page"]["rows"]
    assert [r["workflowId"] for r in rows] == [slow] and rows[0]["status"]["style"]["backgroundColor"]
    runs.run("root/Runs onRowClick 0", event=Event(row=0, rowIndex=0, value=rows[0]))
    assert navigated(suite) == "%s/runs/%s" % (PREFIX, slow)
    runs.click("root/Filters/Filter")  # the same filter again: back to the first page
    runs.custom["page"]["nextCursor"] = suite.perspective.runsPage(limit=1)["nextCursor"]
    runs.click("root/Pager/Older")
    assert runs.custom["previous"] == [""] and runs.custom["cursor"]
    runs.evaluate()
    runs.click("root/Pager/Newer")
    assert (runs.custom["previous"], runs.custom["cursor"]) == ([], "")


def _command(suite, run, user, cmd, reason=""):
    """Click a command button (an instance of CommandButton) on the run page as `user`, as the page does it."""
    run.context["session"]["props"]["auth"]["user"].update({"userName": user[0], "roles": list(user[1])})
    (instance,) = [b for b in run.evaluate().check().custom["buttons"]["buttons"] if b["cmd"] == cmd]
    assert instance["enabled"], instance
    button = Page(suite, "CommandButton", user, instance)
    button.click("root/Button")
    run.custom["reason"] = reason
    run.deliver(calls("sendMessage"))
    return run.custom["message"]


def _run_page(suite, slow):
    service = _service()
    run = Page(suite, "Run", OTTO, {"uuid": slow}).evaluate()
    chunk = run.custom["logChunk"]
    assert chunk["entries"] and chunk["lastOffset"] == chunk["entries"][-1]["offset"]
    run.run("view custom.logChunk onChange", currentValue=Qualified(chunk))
    assert run.custom["logRows"] == chunk["entries"] and run.custom["logOffset"] == chunk["lastOffset"]
    wait_for(lambda: suite.perspective.runLog(slow, chunk["lastOffset"])["entries"], message="more log entries")
    newer = run.evaluate().custom["logChunk"]
    assert newer["entries"] and newer["entries"][0]["offset"] == chunk["lastOffset"] + 1  # only what is new
    run.run("view custom.logChunk onChange", currentValue=Qualified(newer))
    run.run("view custom.logChunk onChange", currentValue=Qualified(newer))  # the same answer twice: appended once
    offsets = [e["offset"] for e in run.custom["logRows"]]
    assert offsets == range(offsets[-1] + 1), offsets
    buttons = dict([(b["cmd"], b) for b in run.custom["buttons"]["buttons"]])
    assert "SAMPLE" in buttons and not buttons["STOP"]["enabled"] and "may not" in buttons["STOP"]["reason"]

    assert _command(suite, run, OTTO, "HOLD", "checking the valve")
    assert run.custom["reason"] == ""  # sent: the reason field is emptied
    wait_status(service, slow, "HELD")
    assert _command(suite, run, OTTO, "RESUME")
    wait_status(service, slow, "RUNNING")
    assert _command(suite, run, SAM, "STOP", "end of shift")
    wait_status(service, slow, "STOPPED")
    # the command log of the run: each command with the session user who sent it
    log = [(c["cmd"], c["actor"], c.get("reason")) for c in service.listCommands(workflowId=slow)["data"]["commands"]]
    assert log == [("HOLD", "otto", "checking the valve"), ("RESUME", "otto", None),
                   ("STOP", "sam", "end of shift")], log
    run.evaluate().check()
    assert [(r["cmd"], r["who"]) for r in run.custom["commands"]["rows"]] == [
        ("HOLD", "otto"), ("RESUME", "otto"), ("STOP", "sam")]
    details = run.custom["details"]
    assert details["done"] and details["status"] == "STOPPED"
    events = dict([(e["key"], e["value"]) for e in details["events"]])
    assert events["batch"] == "<b>B-7</b>", events  # markup kept as text
    _command(suite, run, SAM, "RETRY")
    retried = navigated(suite).split("/")[-1]
    assert service.getWorkflow(workflowId=retried)["data"]["retryOf"] == slow
    run.click("root/Header/Steps")
    assert navigated(suite) == "%s/runs/%s/steps" % (PREFIX, slow)
    run.run("view params.uuid onChange", currentValue=Qualified(retried))
    assert (run.custom["logRows"], run.custom["logOffset"]) == ([], -1)
    return retried


def _parent_page(suite):
    service = _service()
    wid = service.start(workflowName="jp.parent", inputs={"resolved": {}})["data"]["workflowId"]
    wait_status(service, wid)
    parent = Page(suite, "Run", OTTO, {"uuid": wid}).evaluate().check()
    (child,) = parent.custom["details"]["children"]
    parent.run("root/Children onRowClick 0", event=Event(row=0, rowIndex=0, value=child))
    assert navigated(suite) == "%s/runs/%s" % (PREFIX, child["workflowId"])


def _other_pages(suite, slow):
    service = _service()
    steps = Page(suite, "Steps", OTTO, {"uuid": slow}).evaluate().check()
    assert steps.custom["steps"]["rows"] and steps.custom["timeline"]["elements"]
    steps.click("root/Header/Run")
    assert navigated(suite) == "%s/runs/%s" % (PREFIX, slow)
    queues = Page(suite, "Queues", OTTO).evaluate().check()
    assert "default" in [r["queue"] for r in queues.custom["queues"]["rows"]]
    admin = Page(suite, "Admin", OTTO).evaluate().check()
    admin.click("root/Maintenance/Drain")
    assert "may not change" in admin.custom["message"]
    admin = Page(suite, "Admin", ADA).evaluate().check()
    admin.click("root/Maintenance/Drain")
    assert admin.custom["message"].startswith("draining"), admin.custom["message"]
    assert admin.evaluate().custom["overview"]["draining"] is True
    admin.click("root/Maintenance/Resume")
    assert admin.custom["message"] == "dispatch resumed", admin.custom["message"]
    assert admin.evaluate().custom["overview"]["draining"] is False
    admin.custom["days"] = 45.0  # a Numeric Entry Field's number
    admin.click("root/Retention/SetRetention")
    assert "45 days" in admin.custom["message"], admin.custom["message"]
    assert admin.evaluate().custom["overview"]["retentionDays"] == 45
    admin.click("root/Retention/ApplyRetention")
    assert admin.custom["message"] and service.getWorkflow(workflowId=slow)["ok"]
    nav = Page(suite, "Nav", OTTO)
    for name in ("Start", "Runs", "Queues", "Admin"):
        nav.click("root/" + name)
        navigated(suite)
    nav.click("root/SignIn")
    assert [c["function"] for c in calls()] == ["login"]


def test_every_binding_and_script_against_a_real_engine_as_the_session_user(engine):
    service = _service()
    suite = Suite()
    slow = service.start(workflowName="jp.slow", inputs={"resolved": {"steps": 1200, "seconds": 0.05}})
    slow = slow["data"]["workflowId"]
    _start_form(suite)
    wait_status(service, slow, "RUNNING")
    _runs_page(suite, slow)
    _run_page(suite, slow)
    _parent_page(suite)
    _other_pages(suite, slow)
    assert sorted(suite.functions) == sorted(RATES), sorted(suite.functions)
    missing = sorted(set([s.key for s in suite.scripts]) - suite.executed)
    assert not missing, "scripts this test never ran: %s" % missing
    unchecked = sorted(suite.tables_and_repeaters() - suite.checked)
    assert not unchecked, "tables and repeaters never checked with rows: %s" % unchecked
