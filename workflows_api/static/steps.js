/* Steps page: step table and timeline, refreshed every second while the run is active. */
(function () {
  "use strict";
  var h = WF.h, $ = WF.$;
  var match = /\/runs\/([0-9a-fA-F-]{36})\/steps\/?$/.exec(window.location.pathname);
  var runId = match ? match[1].toLowerCase() : null;
  var phases = [], seen = {}, afterHistoryId = 0, finalPolls = 0, poll = null;

  function renderHead(run) {
    document.title = "Steps of " + run.workflowName + " " + run.workflowId.substring(0, 8) + " · exchange.workflows";
    $("run-name").textContent = "Steps of " + run.workflowName;
    WF.clear($("run-status")).appendChild(WF.pill(run.status));
    WF.clear($("run-phase")).appendChild(WF.pill(run.phase, "phase"));
    WF.clear($("live-flag")).appendChild(WF.isTerminal(run.status) ? h("span") : WF.pill("LIVE", "live"));
  }

  function renderTable(steps) {
    var body = WF.clear($("steps-table").tBodies[0]);
    steps.forEach(function (s) {
      var result = s.error ? (s.error.type || "Error") + ": " + (s.error.message || "") : WF.brief(s.output);
      body.appendChild(h("tr", { dataset: { functionId: s.functionId } },
        h("td", { class: "num", text: s.functionId }),
        h("td", { class: "mono", text: s.name }),
        h("td", { text: s.kind }),
        h("td", {}, WF.pill(s.status)),
        h("td", { class: "num", text: s.attempts }),
        h("td", { text: WF.fmtClock(s.startedAt) }),
        h("td", { class: "num", text: WF.fmtDuration(s.durationMs) }),
        h("td", { class: "wrap" + (s.error ? " err" : ""), text: result })));
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
      var run = live.data.run;
      live.data.history.forEach(function (r) {
        if (r.key === "phase" && !seen[r.id]) { seen[r.id] = true; phases.push({ id: r.id, phase: r.value, at: r.at }); }
      });
      phases.sort(function (a, b) { return a.id - b.id; });
      afterHistoryId = Math.max(afterHistoryId, live.data.lastHistoryId);
      var onlySteps = steps.data.steps.filter(function (s) { return s.kind === "step"; });
      renderHead(run);
      renderTable($("all-operations").checked ? steps.data.steps : onlySteps);
      WF.drawTimeline($("timeline"), { run: run, steps: onlySteps, phases: phases, now: live.meta.tsMs || Date.now() });
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
