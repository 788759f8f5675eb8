/* Runs monitor: filters in the URL, newest first, keyset pages (nextCursor), live refresh of the current page.
Child runs carry a link to their parent; "hide child runs" (topLevelOnly=1) leaves them out, and parentWorkflowId=<id>
(the run page's "in the runs list" link) shows only the children of one run. Each run shows the version of its
workflow's code it started under (as text, shortened); the version filter is workflowVersion=<version>. */
(function () {
  "use strict";
  var h = WF.h, $ = WF.$;
  var cursors = [null];     // cursor of each page visited; the last one is the page shown
  var nextCursor = null;
  var poll = null;
  var parentFilter = "";    // ?parentWorkflowId=: only the runs this run started
  var VERSION_CHARS = 16;   // a digest "src-1a2b3c4d5e6f" in full; longer version texts are cut (the whole in the tooltip)

  function toLocalInput(ms) {
    if (!ms) { return ""; }
    var d = new Date(Number(ms) - new Date(Number(ms)).getTimezoneOffset() * 60000);
    return d.toISOString().substring(0, 19);
  }

  function fromLocalInput(text) {
    if (!text) { return ""; }
    var ms = new Date(text).getTime();
    return isFinite(ms) ? String(ms) : "";
  }

  function filtersFromUrl() {
    var q = new URLSearchParams(window.location.search);
    $("f-workflow").value = q.get("workflowName") || "";
    if ($("f-workflow").value !== (q.get("workflowName") || "")) {
      $("f-workflow").appendChild(h("option", { value: q.get("workflowName"), text: q.get("workflowName") }));
      $("f-workflow").value = q.get("workflowName");
    }
    $("f-status").value = q.get("status") || "";
    $("f-queue").value = q.get("queueName") || "";
    $("f-partition").value = q.get("partitionKey") || "";
    $("f-version").value = q.get("workflowVersion") || "";
    $("f-from").value = toLocalInput(q.get("createdFrom"));
    $("f-to").value = toLocalInput(q.get("createdTo"));
    if (q.get("limit")) { $("f-limit").value = q.get("limit"); }
    $("f-top-level").checked = ["1", "true", "yes"].indexOf((q.get("topLevelOnly") || "").toLowerCase()) >= 0;
    setParentFilter(q.get("parentWorkflowId") || "");
  }

  function setParentFilter(id) {
    parentFilter = id;
    $("f-parent-field").classList.toggle("hidden", !id);
    var chip = WF.clear($("f-parent"));
    if (id) { WF.append(chip, ["children of ", WF.shortRunLink(id)]); }
  }

  function query() {
    var q = new URLSearchParams();
    if ($("f-workflow").value) { q.set("workflowName", $("f-workflow").value); }
    if ($("f-status").value) { q.set("status", $("f-status").value); }
    if ($("f-queue").value.trim()) { q.set("queueName", $("f-queue").value.trim()); }
    if ($("f-partition").value.trim()) { q.set("partitionKey", $("f-partition").value.trim()); }
    if ($("f-version").value.trim()) { q.set("workflowVersion", $("f-version").value.trim()); }
    if (fromLocalInput($("f-from").value)) { q.set("createdFrom", fromLocalInput($("f-from").value)); }
    if (fromLocalInput($("f-to").value)) { q.set("createdTo", fromLocalInput($("f-to").value)); }
    if ($("f-top-level").checked) { q.set("topLevelOnly", "1"); }
    if (parentFilter) { q.set("parentWorkflowId", parentFilter); }
    if ($("f-limit").value !== "50") { q.set("limit", $("f-limit").value); }
    return q;
  }

  /* the run's code version as text, cut to VERSION_CHARS (the whole in the tooltip) */
  function versionCell(version) {
    if (!version) { return h("td", { class: "version muted", text: "-" }); }
    var text = String(version);
    var shown = text.length > VERSION_CHARS ? text.substring(0, VERSION_CHARS - 1) + "\u2026" : text;
    return h("td", { class: "version mono", title: "version " + text, dataset: { version: text }, text: shown });
  }

  function row(run) {
    return h("tr", { dataset: { runId: run.workflowId } },
      h("td", {}, WF.pill(run.status),
        run.status === "DELAYED" && run.startsAt ? h("span", { class: "starts-at", title: "not claimed before this time",
                                                                text: "starts " + WF.fmtTime(run.startsAt) }) : null),
      h("td", { text: run.workflowName }),
      versionCell(run.workflowVersion),
      h("td", {}, WF.runLink(run.workflowId, run.workflowId.substring(0, 8)),
        run.parentWorkflowId ? h("a", { class: "child-of", href: WF.url("/runs/" + encodeURIComponent(run.parentWorkflowId)),
                                        title: "started by run " + run.parentWorkflowId,
                                        text: "\u21b3 child of " + WF.shortId(run.parentWorkflowId) }) : null),
      h("td", { text: run.phase || "" }),
      h("td", { text: run.queueName || "" }),
      h("td", { text: run.partitionKey || "" }),
      h("td", { text: WF.fmtTime(run.createdAt) }),
      h("td", { class: "num", text: WF.fmtDuration(run.durationMs) }),
      h("td", { text: run.createdBy || "" }));
  }

  function load() {
    var q = query();
    var cursor = cursors[cursors.length - 1];
    if (cursor) { q.set("cursor", cursor); }
    return WF.api("GET", "/api/runs?" + q.toString()).then(function (env) {
      var body = WF.clear($("runs-table").tBodies[0]);
      var err = $("runs-error");
      if (!env.ok) { WF.notice(err, env); return; }
      err.hidden = true;
      env.data.runs.forEach(function (run) { body.appendChild(row(run)); });
      if (!env.data.runs.length) {
        body.appendChild(h("tr", {}, h("td", { colspan: 10, class: "empty", text: "No runs match these filters." })));
      }
      nextCursor = env.data.nextCursor;
      $("next-page").disabled = !nextCursor;
      $("prev-page").disabled = cursors.length < 2;
      $("first-page").disabled = cursors.length < 2;
      $("page-info").textContent = "page " + cursors.length + " · " + env.data.runs.length + " runs" +
        (nextCursor ? " · more on the next page" : "");
    });
  }

  function restartPolling() {
    if (poll) { poll.stop(); poll = null; }
    if ($("auto-refresh").checked) { poll = WF.poller(load, 2000); } else { load(); }
  }

  function apply() {
    var q = query();
    window.history.replaceState(null, "", WF.url("/runs") + (q.toString() ? "?" + q.toString() : ""));
    cursors = [null];
    restartPolling();
  }

  $("filters").addEventListener("submit", function (event) { event.preventDefault(); apply(); });
  $("f-top-level").addEventListener("change", apply);
  $("f-parent-clear").addEventListener("click", function () { setParentFilter(""); apply(); });
  $("next-page").addEventListener("click", function () { if (nextCursor) { cursors.push(nextCursor); restartPolling(); } });
  $("prev-page").addEventListener("click", function () { if (cursors.length > 1) { cursors.pop(); restartPolling(); } });
  $("first-page").addEventListener("click", function () { cursors = [null]; restartPolling(); });
  $("auto-refresh").addEventListener("change", restartPolling);

  WF.STATUSES.forEach(function (s) { $("f-status").appendChild(h("option", { value: s, text: s })); });
  WF.api("GET", "/api/workflows").then(function (env) {
    if (env.ok) {
      env.data.workflows.forEach(function (w) { $("f-workflow").appendChild(h("option", { value: w.name, text: w.name })); });
    }
    filtersFromUrl();
    restartPolling();
  });
})();
