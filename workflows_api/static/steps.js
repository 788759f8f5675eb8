/* Steps page: step table and timeline, refreshed every second while the run is active.

Child starts (kind "child"), awaits (kind "await") and tag waits (kind "wait") are entries of their own in both.
While the run is WAITING, the await or tag wait it is parked in has no record yet: it is shown from the run's
waitingFor as a pending entry.
*/
(function () {
  "use strict";
  var h = WF.h, $ = WF.$;
  var match = /\/runs\/([0-9a-fA-F-]{36})\/steps\/?$/.exec(window.location.pathname);
  var runId = match ? match[1].toLowerCase() : null;
  var FLOW = ["step", "child", "await", "wait"];  // what the workflow did; the rest (events, messages, ...) on request

  function waits(s) { return s.kind === "await" || s.kind === "wait"; }
  var phases = [], seen = {}, afterHistoryId = 0, finalPolls = 0, poll = null;

  function renderHead(run) {
    document.title = "Steps of " + run.workflowName + " " + run.workflowId.substring(0, 8) + " · exchange.workflows";
    $("run-name").textContent = "Steps of " + run.workflowName;
    WF.clear($("run-status")).appendChild(WF.pill(run.status));
    WF.clear($("run-phase")).appendChild(WF.pill(run.phase, "phase"));
    WF.clear($("live-flag")).appendChild(WF.isTerminal(run.status) ? h("span") : WF.pill("LIVE", "live"));
    var parent = WF.clear($("parent-link"));
    if (run.parentWorkflowId) { WF.append(parent, ["child of ", WF.shortRunLink(run.parentWorkflowId)]); }
  }

  /* When an await first had to wait: the first WAITING phase after the operation before it (an await's record
     carries the time it recorded its outcome). */
  function waitFrom(s, before) {
    var end = s.completedAt || Infinity;
    for (var i = 0; i < phases.length; i++) {
      var p = phases[i];
      if (p.phase === "WAITING" && p.at >= before && p.at < end) { return Math.min(p.at, s.startedAt || p.at); }
    }
    return s.startedAt;
  }

  /* the recorded operations, plus the await the run is parked in (not recorded until it has its outcome) */
  function operations(run, steps) {
    var all = steps.slice(), before = run.startedAt || 0;
    all.forEach(function (s) {
      if (waits(s)) { s.waitFrom = waitFrom(s, before); }
      before = s.completedAt || s.startedAt || before;
    });
    var w = run.status === "WAITING" ? run.waitingFor : null;
    var recorded = w && all.some(function (s) { return s.functionId === w.functionId; });
    if (w && !recorded && w.operation !== "sleep") {
      var tag = w.operation === "waitForTag";
      var pending = { functionId: w.functionId, name: tag ? "waitForTag:" + w.path : w.operation + ":" + (w.workflowIds || []).length,
                      kind: tag ? "wait" : "await", status: "WAITING", attempts: 1, startedAt: tag ? w.since : null,
                      completedAt: null, durationMs: null, output: null, error: null, pending: true, waitingFor: w };
      pending.waitFrom = waitFrom(pending, before);
      if (!pending.waitFrom) { pending.waitFrom = run.updatedAt || before; }
      all.push(pending);
    }
    return all;
  }

  function kindCell(s) {
    if (s.kind === "child" || waits(s)) {
      var text = s.kind === "child" ? "child start" : (s.kind === "wait" ? "tag wait" : "await");
      return h("td", {}, h("span", { class: "op-kind kind-" + s.kind, text: text }));
    }
    return h("td", { text: s.kind });
  }

  function resultCell(s, now) {
    if (s.kind === "child" && typeof s.output === "string" && !s.error) {
      return h("td", {}, "started ", WF.runLink(s.output));
    }
    if (s.pending && s.kind === "wait") {
      var v = s.waitingFor.lastValue;
      return h("td", { class: "wrap", text: "until " + s.waitingFor.condition + " (last read " +
                       (typeof v === "string" ? v : JSON.stringify(v === undefined ? null : v)) + ")" });
    }
    if (s.pending) {
      var w = s.waitingFor;
      return h("td", { class: "wrap" }, (w.pending || []).length + " of " + (w.workflowIds || []).length +
               " still pending: ", (w.pending || []).slice(0, 12).map(function (id) { return [WF.shortRunLink(id), " "]; }));
    }
    if (s.error) {
      var text = (s.error.type || "Error") + ": " + (s.error.message || "");
      var failed = s.kind === "await" && typeof s.error.workflowId === "string" ? s.error.workflowId : null;
      return h("td", { class: "wrap err", text: failed ? null : text }, failed ? [text, " (", WF.runLink(failed, "open the run"), ")"] : null);
    }
    return h("td", { class: "wrap", text: WF.brief(s.output) });
  }

  function renderTable(steps, now) {
    var body = WF.clear($("steps-table").tBodies[0]);
    steps.forEach(function (s) {
      var started = waits(s) ? s.waitFrom : s.startedAt;
      var duration = waits(s) ? WF.spanMs(s.waitFrom, s.completedAt, s.pending ? now : null) : s.durationMs;
      body.appendChild(h("tr", { dataset: { functionId: s.functionId, kind: s.kind }, class: s.pending ? "pending" : null },
        h("td", { class: "num", text: s.functionId }),
        h("td", { class: "mono", text: s.name }),
        kindCell(s),
        h("td", {}, WF.pill(s.status)),
        h("td", { class: "num", text: s.attempts }),
        h("td", { text: WF.fmtClock(started) }),
        h("td", { class: "num", text: WF.fmtDuration(duration) }),
        resultCell(s, now)));
    });
    if (!steps.length) { body.appendChild(h("tr", {}, h("td", { colspan: 8, class: "empty", text: "No steps recorded yet." }))); }
    $("steps-count").textContent = "(" + steps.length + ")";
  }

  function refresh() {
    return Promise.all([
      WF.api("GET", "/api/runs/" + runId + "/live?log=0&afterHistoryId=" + afterHistoryId),
      WF.api("GET", "/api/runs/" + runId + "/steps")
    ]).then(function (answers) {
      var live = answers[0], steps = answers[1];
      var err = $("steps-error");
      if (!live.ok || !steps.ok) { WF.notice(err, live.ok ? steps : live); return live.httpStatus !== 404; }
      err.hidden = true;
      var run = live.data.run, now = live.meta.tsMs || Date.now();
      live.data.history.forEach(function (r) {
        if (r.key === "phase" && !seen[r.id]) { seen[r.id] = true; phases.push({ id: r.id, phase: r.value, at: r.at }); }
      });
      phases.sort(function (a, b) { return a.id - b.id; });
      afterHistoryId = Math.max(afterHistoryId, live.data.lastHistoryId);
      var all = operations(run, steps.data.steps);
      var flow = all.filter(function (s) { return FLOW.indexOf(s.kind) >= 0; });
      renderHead(run);
      renderTable($("all-operations").checked ? all : flow, now);
      WF.drawTimeline($("timeline"), { run: run, steps: flow, phases: phases, now: now });
      if (WF.isTerminal(run.status)) { finalPolls += 1; return finalPolls < 2; }
      return true;
    });
  }

  if (!runId) { return; }
  $("all-operations").addEventListener("change", function () { refresh(); });
  $("run-link").setAttribute("href", WF.url("/runs/" + runId));
  poll = WF.poller(function () {
    return refresh().then(function (again) { if (!again && poll) { poll.stop(); } return again; });
  }, 1000);
})();
