"""Registered workflows and their parameters, filled by the @workflow decorator when a module is imported."""
import inspect
import sys

from exchange.workflows.engine import versions
from exchange.workflows.util import cron
from exchange.workflows.util.compat import PY2, integer_types, is_integer, string_types
from exchange.workflows.util.errors import InvalidArgument
from exchange.workflows.util.jsoncodec import to_json_native

PARAM_TYPES = ("str", "int", "float", "bool", "json")
_NO_DEFAULT = object()


class ParamDef(object):
    def __init__(self, name, type=None, default=_NO_DEFAULT, label=None, description=None, choices=None):
        if type is not None and type not in PARAM_TYPES:
            raise InvalidArgument("parameter %s: type must be one of %s" % (name, ", ".join(PARAM_TYPES)), field=name)
        if type is None:
            type = _infer_type(default)
        self.name = name
        self.type = type
        self.default = default
        self.label = label or name
        self.description = description
        self.choices = list(choices) if choices else None

    @property
    def required(self):
        return self.default is _NO_DEFAULT

    def as_dict(self):
        out = {"name": self.name, "type": self.type, "label": self.label, "required": self.required}
        if not self.required:
            out["default"] = self.default
        if self.description:
            out["description"] = self.description
        if self.choices:
            out["choices"] = self.choices
        return out

    def check(self, value):
        """The value coerced to this parameter's type, or InvalidArgument naming the field."""
        field = "inputs.resolved.%s" % self.name
        kind = self.type
        if value is None:
            if self.required:
                raise InvalidArgument("parameter %s is required" % self.name, field=field)
            return None
        if kind == "str" and not isinstance(value, string_types):
            raise InvalidArgument("parameter %s must be text" % self.name, field=field)
        if kind == "int" and not is_integer(value):
            if isinstance(value, float) and value == int(value):
                value = int(value)
            else:
                raise InvalidArgument("parameter %s must be an integer" % self.name, field=field)
        if kind == "float":
            if isinstance(value, bool) or not isinstance(value, (float,) + integer_types):
                raise InvalidArgument("parameter %s must be a number" % self.name, field=field)
            value = float(value)
        if kind == "bool" and not isinstance(value, bool):
            raise InvalidArgument("parameter %s must be true or false" % self.name, field=field)
        value = to_json_native(value, field)
        if self.choices and value not in self.choices:
            raise InvalidArgument("parameter %s must be one of %s" % (self.name, ", ".join([repr(c) for c in self.choices])),
                                  field=field)
        return value


def _infer_type(default):
    if default is _NO_DEFAULT or default is None:
        return "json"
    if isinstance(default, bool):
        return "bool"
    if isinstance(default, integer_types):
        return "int"
    if isinstance(default, float):
        return "float"
    if isinstance(default, string_types):
        return "str"
    return "json"


def _signature(fn):
    """(names, defaults dict, accepts **kwargs) from the function signature, on Python 2 and 3."""
    if PY2:
        spec = inspect.getargspec(fn)
        names, defaults, varkw = spec.args, spec.defaults or (), spec.keywords
    else:
        spec = inspect.getfullargspec(fn)
        names, defaults, varkw = spec.args, spec.defaults or (), spec.varkw
    offset = len(names) - len(defaults)
    return list(names), dict([(names[offset + i], d) for i, d in enumerate(defaults)]), varkw is not None


_SCHEDULE_KEYS = ("cron", "timezone", "name", "inputs", "queueName", "partitionKey", "missedPolicy", "catchUpLimit")


def _checked_schedule(workflow_name, schedule):
    """A schedule declared in code, its shape and cron checked when the module is imported (the time zone and
    the rest when a gateway makes the schedule)."""
    if schedule is None:
        return None
    if not isinstance(schedule, dict) or not isinstance(schedule.get("cron"), string_types):
        raise InvalidArgument("workflow %s: schedule must be a dict with a \"cron\" text" % workflow_name,
                              field="schedule")
    unknown = sorted([k for k in schedule if k not in _SCHEDULE_KEYS])
    if unknown:
        raise InvalidArgument("workflow %s: schedule has unknown keys %s" % (workflow_name, ", ".join(unknown)),
                              field="schedule.%s" % unknown[0])
    cron.parse(schedule["cron"])
    return dict(schedule)


class WorkflowDef(object):
    def __init__(self, name, fn, params=None, description=None, commands=None, templates=None, on_stop=None,
                 queue=None, max_recovery_attempts=None, schedule=None, version=None):
        self.name = name
        self.fn = fn
        self.module = getattr(fn, "__module__", None)
        self.version = versions.checked(version, name) or versions.code_version(fn)
        self.description = description or (inspect.getdoc(fn) or "").strip().split("\n")[0] or None
        self.commands = [c.upper() for c in (commands or [])]
        self.templates = dict(templates or {})
        self.on_stop = on_stop
        self.queue = queue
        self.max_recovery_attempts = max_recovery_attempts
        self.schedule = _checked_schedule(name, schedule)
        names, defaults, self.accepts_any = _signature(fn)
        declared = dict(params or {})
        unknown = [n for n in declared if n not in names and not self.accepts_any]
        if unknown:
            raise InvalidArgument("workflow %s declares parameters %s that its function does not take"
                                  % (name, ", ".join(sorted(unknown))), field="params")
        self.params = []
        for pname in names + sorted([n for n in declared if n not in names]):
            spec = dict(declared.get(pname) or {})
            default = defaults.get(pname, spec.pop("default", _NO_DEFAULT))
            spec.pop("default", None)
            self.params.append(ParamDef(pname, default=default, **spec))
        for tname, values in self.templates.items():
            self.resolve(values, "templates.%s" % tname)

    @classmethod
    def from_published(cls, data):
        """A definition another gateway published (workflow_definitions): enough to validate a start here."""
        self = cls.__new__(cls)
        self.name = data["name"]
        self.fn = None
        self.module = data.get("module")
        self.version = data.get("version")
        self.description = data.get("description")
        self.commands = list(data.get("commands") or [])
        self.templates = dict(data.get("templates") or {})
        self.on_stop = None
        self.queue = data.get("queue")
        self.max_recovery_attempts = None
        self.schedule = None
        self.accepts_any = bool(data.get("acceptsAny"))
        self.params = []
        for p in data.get("params") or []:
            self.params.append(ParamDef(p["name"], type=p.get("type"),
                                        default=p["default"] if "default" in p else _NO_DEFAULT,
                                        label=p.get("label"), description=p.get("description"),
                                        choices=p.get("choices")))
        return self

    def param(self, name):
        for p in self.params:
            if p.name == name:
                return p
        return None

    def resolve(self, values, where="inputs.resolved"):
        """Check and complete a parameter dict against the declared parameters (defaults filled in)."""
        values = dict(values or {})
        out = {}
        for p in self.params:
            if p.name in values:
                out[p.name] = p.check(values.pop(p.name))
            elif p.required:
                raise InvalidArgument("parameter %s is required" % p.name, field="%s.%s" % (where, p.name))
            else:
                out[p.name] = to_json_native(p.default, "%s.%s" % (where, p.name))
        if values:
            if not self.accepts_any:
                raise InvalidArgument("workflow %s has no parameter %s" % (self.name, ", ".join(sorted(values))),
                                      field="%s.%s" % (where, sorted(values)[0]))
            for key, value in values.items():
                out[key] = to_json_native(value, "%s.%s" % (where, key))
        return out

    def as_dict(self):
        return {"name": self.name, "module": self.module, "version": self.version, "description": self.description,
                "params": [p.as_dict() for p in self.params], "commands": self.commands,
                "templates": self.templates, "queue": self.queue, "hasOnStop": self.on_stop is not None,
                "acceptsAny": self.accepts_any}


class Registry(object):
    def __init__(self):
        self._workflows = {}
        self.modules = []

    def register(self, definition):
        self._workflows[definition.name] = definition
        return definition

    def get(self, name):
        return self._workflows.get(name)

    def names(self):
        return sorted(self._workflows)

    def all(self):
        return [self._workflows[n] for n in self.names()]

    def take_module(self, module):
        """Remove the workflows a module defines (before it is loaded again); returns them, to put back if the
        module fails to load."""
        taken = [d for d in self._workflows.values() if d.module == module]
        for definition in taken:
            del self._workflows[definition.name]
        return taken

    def put_back(self, definitions):
        for definition in definitions:
            self._workflows.setdefault(definition.name, definition)

    def versions(self):
        """{workflow name: version} of every registered workflow."""
        return dict([(d.name, d.version) for d in self._workflows.values()])

    def load_modules(self, names):
        """Import workflow modules by dotted name; returns {name: error text} for those that failed."""
        errors = {}
        for name in names or []:
            name = name.strip()
            if not name:
                continue
            try:
                __import__(name)
                if name not in self.modules:
                    self.modules.append(name)
            except (KeyboardInterrupt, SystemExit):
                raise
            except:  # noqa: E722 - a Java exception from user module code must not stop the others
                errors[name] = "%s: %s" % (sys.exc_info()[0].__name__, sys.exc_info()[1])
        return errors


REGISTRY = Registry()
