"""exchange.workflows.api.params: named parameter templates per workflow (code-declared and saved).

A template is a dict of parameter values; start(inputs={"template": "default", "overrides": {...}}) resolves it.
Templates declared in code (@workflow(templates=...)) are read-only; saved ones live in workflows.param_templates.
"""
from exchange.workflows.engine import starts
from exchange.workflows.host import runtime
from exchange.workflows.util.clock import now_ms
from exchange.workflows.util.compat import string_types
from exchange.workflows.util.envelope import failure, guarded, success
from exchange.workflows.util.errors import InvalidArgument
from exchange.workflows.util.jsoncodec import dumps, loads


def _definition(engine, workflowName):
    if not isinstance(workflowName, string_types) or not workflowName:
        raise InvalidArgument("workflowName is required", field="workflowName")
    definition = starts.find_definition(engine, workflowName)
    if definition is None:
        raise starts.UnknownWorkflow("no workflow named %r is registered" % workflowName)
    return definition


def _all(engine, definition):
    out = {}
    for name, values in definition.templates.items():
        out[name] = {"name": name, "params": values, "source": "code", "updatedAt": None, "updatedBy": None}
    for name, params, updated_at, updated_by in engine.store.templates(definition.name):
        out[name] = {"name": name, "params": loads(params), "source": "saved", "updatedAt": int(updated_at),
                     "updatedBy": updated_by}
    return out


@guarded
def listTemplates(workflowName=None):
    engine = runtime.engine()
    definition = _definition(engine, workflowName)
    found = _all(engine, definition)
    return success("OK", "%d templates" % len(found), {"workflowName": definition.name,
                                                      "templates": [found[n] for n in sorted(found)],
                                                      "params": [p.as_dict() for p in definition.params]})


@guarded
def getTemplate(workflowName=None, templateName="default"):
    engine = runtime.engine()
    definition = _definition(engine, workflowName)
    found = _all(engine, definition).get(templateName)
    if found is None:
        return failure("NOT_FOUND", "workflow %s has no template %r" % (definition.name, templateName))
    return success("OK", "template %s" % templateName, found)


@guarded
def saveTemplate(workflowName=None, templateName=None, params=None, actor=None):
    """Save (or replace) a template after checking its values against the workflow's parameters."""
    engine = runtime.engine()
    definition = _definition(engine, workflowName)
    if not isinstance(templateName, string_types) or not templateName.strip():
        raise InvalidArgument("templateName is required", field="templateName")
    if templateName in definition.templates:
        raise InvalidArgument("template %r is declared in code and cannot be overwritten" % templateName,
                              field="templateName")
    if not isinstance(params, dict):
        raise InvalidArgument("params must be an object of parameter values", field="params")
    resolved = definition.resolve(params, "params")
    who = actor if isinstance(actor, string_types) else "system"
    engine.store.put_template(definition.name, templateName, dumps(resolved), who, now_ms())
    return success("TEMPLATE_SAVED", "template %s saved" % templateName, {"name": templateName, "params": resolved})


@guarded
def deleteTemplate(workflowName=None, templateName=None):
    engine = runtime.engine()
    definition = _definition(engine, workflowName)
    if engine.store.delete_template(definition.name, templateName) == 0:
        return failure("NOT_FOUND", "no saved template %r" % templateName)
    return success("TEMPLATE_DELETED", "template %s deleted" % templateName, {"name": templateName})


@guarded
def resolve(workflowName=None, templateName=None, overrides=None):
    """The parameter values a start with this template and these overrides would run with."""
    engine = runtime.engine()
    definition = _definition(engine, workflowName)
    inputs = {"overrides": overrides or {}}
    if templateName:
        inputs["template"] = templateName
    saved = dict([(n, t["params"]) for n, t in _all(engine, definition).items()])
    stored, params = starts.resolve_inputs(definition, inputs, saved)
    return success("OK", "resolved", {"workflowName": definition.name, "resolved": params, "inputs": stored})
