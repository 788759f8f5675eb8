/* Start page: pick a workflow and a template, edit typed parameters, start, and link to the new run. */
(function () {
  "use strict";
  var h = WF.h, $ = WF.$;
  var workflows = {};
  var current = null;      // {definition, templates: {name: params}}
  var queueDefaults = {};
  var selection = 0;       // answers for an earlier selection are ignored

  function fieldError(key, text) { return WF.fieldError(document, key, text); }

  function clearErrors() {
    WF.clearFieldErrors(document);
    $("start-error").hidden = true;
  }

  function paramInput(p, value) {
    var id = "param-" + p.name, input;
    if (p.choices && p.choices.length) {
      input = h("select", { id: id, name: p.name });
      if (!p.required) { input.appendChild(h("option", { value: "", text: "(default)" })); }
      p.choices.forEach(function (c) { input.appendChild(h("option", { value: JSON.stringify(c), text: WF.brief(c) })); });
      input.value = value === undefined || value === null ? (p.required ? JSON.stringify(p.choices[0]) : "") : JSON.stringify(value);
    } else if (p.type === "bool") {
      input = h("input", { type: "checkbox", id: id, name: p.name });
      input.checked = value === true;
    } else if (p.type === "json") {
      input = h("textarea", { id: id, name: p.name, rows: 2 });
      input.value = value === undefined || value === null ? "" : JSON.stringify(value);
    } else {
      input = h("input", { type: p.type === "int" || p.type === "float" ? "number" : "text", id: id, name: p.name,
                           step: p.type === "int" ? "1" : (p.type === "float" ? "any" : null) });
      input.value = value === undefined || value === null ? "" : String(value);
    }
    input.dataset.type = p.type;
    return input;
  }

  function templateValues() {
    var name = $("template").value;
    return name && current.templates[name] ? current.templates[name] : null;
  }

  function renderParams() {
    var box = WF.clear($("params"));
    var values = templateValues() || {};
    var params = current.definition.params || [];
    if (!params.length) { box.appendChild(h("p", { class: "muted", text: "This workflow takes no parameters." })); }
    params.forEach(function (p) {
      var value = p.name in values ? values[p.name] : p["default"];
      var input = paramInput(p, value);
      var label = h("label", { "for": input.id, text: (p.label || p.name) + (p.required ? " *" : "") });
      var kind = p.type === "json" ? "any JSON value (plain text is sent as a string)" : p.type;
      var hint = h("div", { class: "hint", text: p.name + " · " + kind + (p.description ? " · " + p.description : "") });
      var wrap = h("div", { class: "field", dataset: { param: p.name } }, label, input, hint,
                   h("div", { class: "field-error", "data-error-for": "param:" + p.name }));
      if (p.type === "bool") { wrap.insertBefore(h("span"), input); }
      box.appendChild(wrap);
    });
  }

  function selectWorkflow(name) {
    var mine = ++selection;
    clearErrors();
    $("params").removeAttribute("data-workflow");
    var definition = workflows[name];
    $("workflow-description").textContent = definition ? (definition.description || "") : "";
    $("queueName").placeholder = (definition && definition.queue) || "default";
    var tpl = WF.clear($("template"));
    tpl.appendChild(h("option", { value: "", text: "(none: defaults)" }));
    if (!definition) { return Promise.resolve(); }
    return WF.api("GET", "/api/templates?workflowName=" + encodeURIComponent(name)).then(function (env) {
      if (mine !== selection) { return; }
      var templates = {};
      if (env.ok) {
        env.data.templates.forEach(function (t) {
          templates[t.name] = t.params;
          tpl.appendChild(h("option", { value: t.name, text: t.name + (t.source === "saved" ? " (saved)" : "") }));
        });
        definition = { name: name, params: env.data.params, queue: definition.queue, description: definition.description };
      }
      current = { definition: definition, templates: templates };
      if (templates["default"]) { tpl.value = "default"; }
      renderParams();
      $("params").setAttribute("data-workflow", name);
    });
  }

  /* the typed value of one parameter field; {skip} when empty and optional, {error} when it cannot be read */
  function readParam(p) {
    var input = $("param-" + p.name);
    if (!input) { return { skip: true }; }
    if (input.tagName === "SELECT") {
      return input.value === "" ? { skip: true } : { value: JSON.parse(input.value) };
    }
    if (p.type === "bool") { return { value: input.checked }; }
    var raw = input.value;
    if (p.type === "str") { return raw === "" && p.required ? { skip: true } : { value: raw }; }
    if (raw.trim() === "") { return { skip: true }; }
    if (p.type === "int") { return /^-?\d+$/.test(raw.trim()) ? { value: parseInt(raw, 10) } : { value: raw }; }
    if (p.type === "float") { return isFinite(Number(raw)) ? { value: Number(raw) } : { value: raw }; }
    try { return { value: JSON.parse(raw) }; } catch (e) { return { value: raw }; }  // plain text is a string
  }

  function number(id) {
    var raw = $(id).value.trim();
    if (raw === "") { return undefined; }
    return isFinite(Number(raw)) ? Number(raw) : raw;
  }

  function buildRequest() {
    var values = {}, bad = false;
    (current.definition.params || []).forEach(function (p) {
      var read = readParam(p);
      if (read.error) { fieldError("param:" + p.name, read.error); bad = true; }
      else if (!read.skip) { values[p.name] = read.value; }
    });
    if (bad) { return null; }
    var template = $("template").value, inputs;
    if (template) {
      var base = current.templates[template] || {}, overrides = {};
      Object.keys(values).forEach(function (k) {
        if (JSON.stringify(values[k]) !== JSON.stringify(base[k])) { overrides[k] = values[k]; }
      });
      inputs = { template: template, overrides: overrides };
    } else {
      inputs = { resolved: values };
    }
    var body = { workflowName: $("workflow").value, inputs: inputs };
    var queue = $("queueName").value.trim(), partition = $("partitionKey").value;
    if (queue) { body.queueName = queue; }
    if (partition.trim()) { body.partitionKey = partition; }
    var priority = number("priority"), timeout = number("timeoutSeconds");
    if (priority !== undefined) { body.priority = priority; }
    if (timeout !== undefined) { body.timeoutSeconds = timeout; }
    return body;
  }

  function showError(env) {
    var field = (env.data && env.data.field) || "";
    var shown = false;
    var m = /^inputs\.(?:resolved|overrides)\.([^.\[]+)/.exec(field);
    if (m) { shown = fieldError("param:" + m[1], env.message); }
    else if (env.code === "UNKNOWN_QUEUE") { shown = fieldError("queueName", env.message); }
    else if (field) { shown = fieldError(field, env.message); }
    var box = $("start-error");
    WF.notice(box, env);
    box.hidden = false;
    if (shown) { box.textContent = "Please correct the highlighted field."; }
  }

  function showResult(env) {
    var box = WF.clear($("start-result"));
    var id = env.data.workflowId;
    box.appendChild(h("h2", { text: "Run started" }));
    box.appendChild(h("p", {}, WF.pill(env.code === "WORKFLOW_ENQUEUED" ? "ENQUEUED" : env.code), " ",
                      env.data.workflowName + " on queue " + env.data.queueName + ": ",
                      h("a", { id: "new-run-link", class: "mono", href: WF.url("/runs/" + id), text: id })));
    box.appendChild(h("p", { class: "muted", text: env.message }));
    box.appendChild(h("p", {}, h("a", { href: WF.url("/runs/" + id), text: "Open the run" }), " · ",
                      h("a", { href: WF.url("/runs/" + id + "/steps"), text: "Steps and timeline" }), " · ",
                      h("a", { href: WF.url("/runs?workflowName=" + encodeURIComponent(env.data.workflowName)),
                               text: "All runs of " + env.data.workflowName })));
    box.hidden = false;
  }

  $("start-form").addEventListener("submit", function (event) {
    event.preventDefault();
    clearErrors();
    if (!current) { return; }
    var body = buildRequest();
    if (!body) { return; }
    $("start-button").disabled = true;
    WF.api("POST", "/api/runs", body).then(function (env) {
      $("start-button").disabled = false;
      if (env.ok) { showResult(env); } else { showError(env); }
    });
  });

  $("workflow").addEventListener("change", function () { selectWorkflow($("workflow").value); });
  $("template").addEventListener("change", function () { clearErrors(); renderParams(); });

  WF.session.then(function (session) {
    if (session && !session.can.start) {
      $("start-button").disabled = true;
      $("start-hint").textContent = "Your role (" + session.roles.join(", ") + ") may watch runs but not start them.";
    }
  });

  WF.api("GET", "/api/queues").then(function (env) {
    if (!env.ok) { return; }
    var list = WF.clear($("queue-names"));
    env.data.queues.forEach(function (q) { queueDefaults[q.name] = true; list.appendChild(h("option", { value: q.name })); });
  });

  WF.api("GET", "/api/workflows").then(function (env) {
    var select = $("workflow");
    if (!env.ok) { WF.notice($("start-error"), env); return; }
    env.data.workflows.forEach(function (w) {
      workflows[w.name] = w;
      select.appendChild(h("option", { value: w.name, text: w.name }));
    });
    var wanted = new URLSearchParams(window.location.search).get("workflow");
    if (wanted && workflows[wanted]) { select.value = wanted; }
    if (select.value) { selectWorkflow(select.value); }
  });
})();
