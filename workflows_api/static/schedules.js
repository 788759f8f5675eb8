/* Schedules page: every schedule (its cron in words, time zone, next fire, last run, enabled), the buttons pause /
resume / trigger now / delete, a create form, and the recent changes with who made them and the verdict.

What the signed-in user may do comes with each answer (data.console.may, from the engine's policy.SCHEDULE_ROLES):
a button the user may not press is disabled and says why. The engine checks the role again and records every
change and every refusal. A schedule is named in the API path by one percent-encoded segment. */
(function () {
  "use strict";
  var h = WF.h, $ = WF.$;
  var ACTIONS = ["pause", "resume", "trigger", "delete"];
  var LABELS = { pause: "Pause", resume: "Resume", trigger: "Trigger now", delete: "Delete" };
  var HINTS = { pause: "no fires until resumed", resume: "fire again from the next fire time",
                trigger: "start one run now, outside the timetable", delete: "remove the schedule (its runs stay)" };
  var schedules = [];   // the last list answer
  var may = null;       // data.console.may of the last answer: {action: {allowed, reason}}
  var serverNow = null; // meta.tsMs of the last answer
  var busy = false;     // an action is on its way: every button is off until it answers
  var formShown = false;

  function schedulePath(name, action) {
    return "/api/schedules/" + encodeURIComponent(name) + (action ? "/" + action : "");
  }

  /* "." and ".." cannot be a path segment: browsers and proxies remove them from URLs */
  function addressable(name) { return name !== "." && name !== ".."; }

  function whyNot(s, action) {
    if (!may || !may[action]) { return "loading"; }
    if (!may[action].allowed) { return may[action].reason || "not allowed"; }
    if (!addressable(s.scheduleName)) { return "a schedule named \"" + s.scheduleName + "\" cannot be named in a URL: change it from a script (exchange.workflows.api.admin)"; }
    if (action === "pause" && !s.enabled) { return "the schedule is paused already"; }
    if (action === "resume" && s.enabled) { return "the schedule is not paused"; }
    return null;
  }

  function actionButton(s, action) {
    var reason = whyNot(s, action);
    var btn = h("button", { type: "button", class: "act act-" + action, text: LABELS[action],
                            dataset: { action: action, allowed: reason === null ? "true" : "false" },
                            onclick: function () { act(s, action); } });
    btn.disabled = busy || reason !== null;
    btn.title = reason === null ? HINTS[action] : reason;
    if (reason === null && action === "delete" && s.source === "code") {
      btn.title += "; it is declared in code, so a gateway that starts makes it again";
    }
    return btn;
  }

  function nextFire(s) {
    if (!s.enabled) { return h("span", { class: "muted", text: "paused" }); }
    if (s.nextFireAt === null || s.nextFireAt === undefined) { return h("span", { class: "muted", text: "-" }); }
    return [h("div", { class: "at", text: WF.fmtTime(s.nextFireAt) }),
            h("div", { class: "muted relative", text: WF.fmtRelative(s.nextFireAt, serverNow) })];
  }

  function lastRun(s) {
    var last = s.lastRun;
    if (!last) { return h("span", { class: "muted", text: "none yet" }); }
    return [WF.pill(last.status), " ", WF.shortRunLink(last.workflowId),
            h("div", { class: "muted", text: "for " + WF.fmtTime(last.scheduledAt) })];
  }

  function row(s) {
    return h("tr", { dataset: { schedule: s.scheduleName, enabled: s.enabled ? "true" : "false" } },
      h("td", { class: "mono name" }, s.scheduleName,
        s.source === "code" ? h("div", { class: "muted source", text: "declared in code",
                                         title: "made by the @workflow(schedule=...) of " + s.workflowName }) : null),
      h("td", {}, h("a", { href: WF.url("/runs?workflowName=" + encodeURIComponent(s.workflowName)), text: s.workflowName })),
      h("td", { class: "when", title: "cron " + s.cron },
        h("div", { class: "cron-text", text: s.cronText || s.cron }), h("div", { class: "mono muted cron", text: s.cron })),
      h("td", { class: "zone", text: s.timezone }),
      h("td", { class: "next-fire" }, nextFire(s)),
      h("td", { class: "last-run" }, lastRun(s)),
      h("td", { class: "state" }, WF.pill(s.enabled ? "ENABLED" : "PAUSED")),
      h("td", { class: "actions" }, h("div", { class: "commands" }, ACTIONS.map(function (a) { return actionButton(s, a); }))));
  }

  function render() {
    var body = WF.clear($("schedules-table").tBodies[0]);
    schedules.forEach(function (s) { body.appendChild(row(s)); });
    if (!schedules.length) { body.appendChild(h("tr", {}, h("td", { colspan: 8, class: "empty", text: "No schedules." }))); }
  }

  function showRights(data) {
    may = data.console ? data.console.may : null;
    if (!may) { return; }
    var note = $("schedules-note");
    if (!may.pause.allowed) {
      note.textContent = "Read-only: " + may.pause.reason + ". Creating schedules needs the admin role.";
      note.hidden = false;
    } else {
      note.hidden = true;
    }
    var canCreate = may.create && may.create.allowed;
    $("create-card").hidden = !canCreate;
    $("create-denied").hidden = !!canCreate;
    if (!canCreate) { $("create-denied").textContent = "New schedules: " + (may.create ? may.create.reason : "not allowed") + "."; }
    if (canCreate && !formShown) { formShown = true; loadChoices(); }
  }

  function loadSchedules() {
    return WF.api("GET", "/api/schedules").then(function (env) {
      var err = $("schedules-error");
      if (!env.ok) { WF.notice(err, env); return; }
      err.hidden = true;
      serverNow = (env.meta && env.meta.tsMs) || Date.now();
      schedules = env.data.schedules;
      showRights(env.data);
      render();
    });
  }

  /* a change's detail as text; the run a trigger started as a link to it */
  function detail(c) {
    var text = c.detail || "";
    if (c.action === "trigger" && c.verdict === "DONE" && /^[0-9a-f-]{36}$/.test(text)) { return WF.runLink(text); }
    return text;
  }

  function loadChanges() {
    return WF.api("GET", "/api/schedule-changes?limit=30").then(function (env) {
      var body = WF.clear($("changes-table").tBodies[0]);
      if (!env.ok) { body.appendChild(h("tr", {}, h("td", { colspan: 6, class: "empty", text: env.code + ": " + env.message }))); return; }
      env.data.changes.forEach(function (c) {
        body.appendChild(h("tr", { dataset: { changeId: c.id, action: c.action, verdict: c.verdict } },
          h("td", { text: WF.fmtTime(c.at) }),
          h("td", { class: "mono", text: c.scheduleName }),
          h("td", { class: "mono", text: c.action }),
          h("td", { class: "who", text: c.actor + (c.actorRoles && c.actorRoles.length ? " [" + c.actorRoles.join(", ") + "]" : "") }),
          h("td", {}, WF.pill(c.verdict)),
          h("td", { class: "wrap" }, detail(c))));
      });
      if (!env.data.changes.length) { body.appendChild(h("tr", {}, h("td", { colspan: 6, class: "empty", text: "No changes yet." }))); }
    });
  }

  function load() { return Promise.all([loadSchedules(), loadChanges()]); }

  function act(s, action) {
    if (action === "delete" && !window.confirm("Delete the schedule \"" + s.scheduleName + "\"? The runs it started stay.")) { return; }
    busy = true;
    render();
    var request = action === "delete" ? WF.api("DELETE", schedulePath(s.scheduleName))
                                      : WF.api("POST", schedulePath(s.scheduleName, action), {});
    request.then(function (env) {
      busy = false;
      var box = WF.notice($("schedule-result"), env);
      box.dataset.action = action;
      box.dataset.code = env.code;
      if (action === "trigger" && env.ok) { WF.append(box, [" ", WF.runLink(env.data.workflowId, "open the run")]); }
      return load();
    });
  }

  // -- the create form -------------------------------------------------------------------------------------------
  function fieldError(key, text) { return WF.fieldError($("create-form"), key, text); }

  function clearErrors() {
    WF.clearFieldErrors($("create-form"));
    $("create-error").hidden = true;
  }

  function buildCreate() {
    var body = { scheduleName: $("sc-name").value.trim(), workflowName: $("sc-workflow").value,
                 cron: $("sc-cron").value.trim(), timezone: $("sc-timezone").value.trim() || "UTC",
                 missedPolicy: $("sc-missed").value, enabled: $("sc-enabled").checked };
    var queue = $("sc-queue").value.trim(), partition = $("sc-partition").value, limit = $("sc-catch-up").value.trim();
    if (queue) { body.queueName = queue; }
    if (partition.trim()) { body.partitionKey = partition; }
    if (limit) { body.catchUpLimit = /^\d+$/.test(limit) ? parseInt(limit, 10) : limit; }
    var raw = $("sc-inputs").value.trim();
    if (raw) {
      try { body.inputs = JSON.parse(raw); } catch (e) { fieldError("inputs", "not valid JSON: " + e.message); return null; }
    }
    return body;
  }

  function showCreateError(env) {
    var field = (env.data && env.data.field) || "", shown = false;
    if (env.code === "SCHEDULE_EXISTS") { shown = fieldError("scheduleName", env.message); }
    else if (env.code === "UNKNOWN_WORKFLOW") { shown = fieldError("workflowName", env.message); }
    else if (env.code === "UNKNOWN_QUEUE") { shown = fieldError("queueName", env.message); }
    else if (field.indexOf("inputs") === 0) { shown = fieldError("inputs", env.message); }
    else if (field) { shown = fieldError(field, env.message); }
    var box = WF.notice($("create-error"), env);
    box.dataset.code = env.code;
    if (field) { box.dataset.field = field; }
    if (shown) { WF.append(box, " (see the highlighted field)"); }
  }

  function showCreated(env) {
    var s = env.data, box = WF.clear($("create-result"));
    box.hidden = false;
    box.dataset.schedule = s.scheduleName;
    WF.append(box, [h("strong", { text: env.code }), " ", h("span", { class: "mono", text: s.scheduleName }),
                    " starts " + s.workflowName + " ", h("strong", { class: "cron-text", text: s.cronText || s.cron }),
                    " (" + s.cron + ", " + s.timezone + ")",
                    s.enabled && s.nextFireAt ? "; next fire " + WF.fmtTime(s.nextFireAt) + " (" + WF.fmtRelative(s.nextFireAt, env.meta && env.meta.tsMs) + ")"
                                              : "; paused"]);
  }

  function loadChoices() {
    WF.api("GET", "/api/workflows").then(function (env) {
      var select = WF.clear($("sc-workflow"));
      if (!env.ok) { WF.notice($("create-error"), env); return; }
      env.data.workflows.forEach(function (w) { select.appendChild(h("option", { value: w.name, text: w.name })); });
    });
    WF.api("GET", "/api/queues").then(function (env) {
      if (!env.ok) { return; }
      var list = WF.clear($("queue-names"));
      env.data.queues.forEach(function (q) { list.appendChild(h("option", { value: q.name })); });
    });
  }

  $("create-form").addEventListener("submit", function (event) {
    event.preventDefault();
    clearErrors();
    $("create-result").hidden = true;
    var body = buildCreate();
    if (!body) { return; }
    $("create-button").disabled = true;
    WF.api("POST", "/api/schedules", body).then(function (env) {
      $("create-button").disabled = false;
      if (env.ok) { showCreated(env); $("sc-name").value = ""; load(); } else { showCreateError(env); }
    });
  });

  var zone = "";
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { zone = ""; }
  $("browser-zone").textContent = zone || "local";
  ["UTC", zone].filter(function (z, i, all) { return z && all.indexOf(z) === i; }).forEach(function (z) {
    $("zone-names").appendChild(h("option", { value: z }));
  });

  WF.session.then(function () { WF.poller(load, 3000); });
})();
