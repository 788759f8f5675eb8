/* Admin page: executors (with the workflows each has registered and their code versions), maintenance (drain /
resume dispatch), retention, schema version, command policy. */
(function () {
  "use strict";
  var h = WF.h, $ = WF.$;
  var isAdmin = false;
  var opened = {};    // executor id -> its workflow list is open (kept across the 3 s refresh)
  var current = {};   // workflow name -> its current version (GET /api/workflows: the console's gateway)

  /* name@version chips of one executor's workflows; a version other than the current one is marked, so during a
     rolling update the gateways that still run other code stand out */
  function workflowsCell(e) {
    var names = Object.keys(e.workflows || {}).sort();
    if (!names.length) { return h("td", { class: "muted", text: "none" }); }
    var differ = 0;
    var chips = names.map(function (name) {
      var version = e.workflows[name];
      var other = current[name] !== undefined && current[name] !== version;
      if (other) { differ += 1; }
      return h("span", { class: "chip" + (other ? " differs" : ""), dataset: { workflow: name, version: version || "" },
                         title: other ? "this executor has version " + version + "; the current version is " + current[name]
                                      : "version " + version },
               h("span", { class: "chip-name", text: name }), h("span", { class: "chip-version", text: "@" + version }));
    });
    var summary = h("summary", {}, names.length + (names.length === 1 ? " workflow" : " workflows"),
                    differ ? h("span", { class: "differ-count", text: " \u00b7 " + differ + " not current" }) : null);
    var details = h("details", { class: "executor-workflows", open: !!opened[e.executorId] }, summary,
                    h("div", { class: "chips" }, chips));
    details.addEventListener("toggle", function () { opened[e.executorId] = details.open; });
    return h("td", {}, details);
  }

  function workflows() {
    return WF.api("GET", "/api/workflows").then(function (env) {
      if (!env.ok) { return; }
      current = {};
      env.data.workflows.forEach(function (w) { current[w.name] = w.version; });
    });
  }

  function executors() {
    return WF.api("GET", "/api/admin/executors").then(function (env) {
      var body = WF.clear($("executors-table").tBodies[0]);
      if (!env.ok) { body.appendChild(h("tr", {}, h("td", { colspan: 10, text: env.message }))); return; }
      env.data.executors.forEach(function (e) {
        var stale = e.heartbeatAgeMs > env.data.leaseMs;
        body.appendChild(h("tr", { dataset: { executor: e.executorId } },
          h("td", { class: "mono", text: e.executorId }),
          h("td", { text: e.host }),
          h("td", { text: e.kind }),
          h("td", {}, WF.pill(String(stale && e.state !== "stopped" && e.state !== "STOPPED" ? "STALE" : e.state).toUpperCase())),
          h("td", { class: "num", text: e.generation }),
          h("td", { class: "num", text: e.workers }),
          h("td", { class: "num", text: e.executing }),
          h("td", { text: WF.fmtTime(e.startedAt) }),
          h("td", { class: "num", text: WF.fmtDuration(e.heartbeatAgeMs) }),
          workflowsCell(e)));
      });
    });
  }

  function maintenance() {
    return WF.api("GET", "/api/admin/maintenance").then(function (env) {
      if (!env.ok) { $("maintenance-state").textContent = env.code; return; }
      var d = env.data;
      $("maintenance-state").textContent = d.draining ? "draining (no new claims)" : "dispatching";
      $("maintenance-detail").textContent = "executor " + d.executorId + " · " + d.active + " active of " + d.workers +
        " workers · " + d.inMemoryQueued + " in-memory starts";
      $("drain").disabled = !isAdmin || d.draining;
      $("resume-dispatch").disabled = !isAdmin || !d.draining;
    });
  }

  function retention() {
    return WF.api("GET", "/api/admin/retention").then(function (env) {
      if (!env.ok) { return; }
      $("retention-days").value = env.data.days;
      $("retention-batch").value = env.data.batch;
    });
  }

  function schema() {
    return WF.api("GET", "/api/admin/schema").then(function (env) {
      if (!env.ok) { $("schema-version").textContent = env.code; return; }
      $("schema-version").textContent = env.data.version;
      $("schema-latest").textContent = env.data.version === env.data.latest ? "(latest)" : "(latest is " + env.data.latest + ")";
    });
  }

  function policyTable() {
    return WF.api("GET", "/api/admin/policy").then(function (env) {
      var body = WF.clear($("policy-table").tBodies[0]);
      if (!env.ok) { return; }
      env.data.commands.forEach(function (c) {
        body.appendChild(h("tr", { dataset: { cmd: c.cmd } }, h("td", { class: "mono", text: c.cmd }),
                           h("td", {}, c.states.join(", "), c.note ? h("div", { class: "muted", text: c.note }) : null),
                           h("td", { text: c.roles.join(", ") })));
      });
    });
  }

  function act(path, body, box) {
    return WF.api("POST", path, body).then(function (env) { WF.notice($(box), env); return env; });
  }

  $("drain").addEventListener("click", function () {
    act("/api/admin/maintenance", { action: "drain" }, "maintenance-result").then(maintenance);
  });
  $("resume-dispatch").addEventListener("click", function () {
    act("/api/admin/maintenance", { action: "resume" }, "maintenance-result").then(maintenance);
  });
  $("retention-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var days = Number($("retention-days").value), batch = Number($("retention-batch").value);
    act("/api/admin/retention", { days: days, batch: batch }, "retention-result").then(retention);
  });
  $("retention-apply").addEventListener("click", function () {
    act("/api/admin/retention/apply", {}, "retention-result");
  });

  WF.session.then(function (session) {
    isAdmin = !!(session && session.can.admin);
    ["retention-save", "retention-apply", "drain", "resume-dispatch"].forEach(function (id) { $(id).disabled = !isAdmin; });
    if (!isAdmin) {
      var note = $("admin-note");
      note.textContent = "Read-only: changing maintenance and retention needs the admin role.";
      note.hidden = false;
    }
    maintenance(); retention(); schema(); policyTable();
    WF.poller(function () { return workflows().then(executors); }, 3000);
  });
})();
