/* Run details: facts, inputs/output/error, events, live log, event history, command log and command buttons; for a
run that starts runs, its children and (while WAITING) what it waits for; for a child, its parent and root; for a
DELAYED run, when it starts; for a run a schedule started, the schedule and its fire time; the version of its
workflow's code it started under, and for a run whose replay diverged from its record after its code changed
(ERROR, NonDeterminismError) where it diverged and the "Continue with current code" button (command CONTINUE).

While the run is active the page polls /api/runs/<id>/live every 500 ms with the last log offset and event-history
id it has, so each poll returns only new log entries and history rows (plus status, phase, children and the command
log).
*/
(function () {
  "use strict";
  var h = WF.h, $ = WF.$;
  var match = /\/runs\/([0-9a-fA-F-]{36})\/?$/.exec(window.location.pathname);
  var runId = match ? match[1].toLowerCase() : null;
  var afterOffset = -1, afterHistoryId = 0, logCount = 0;
  var poll = null, finalPolls = 0, busy = false;
  var LABELS = { CANCEL: "Cancel", RETRY: "Retry", CONTINUE: "Continue with current code" };
  var NEW_RUN = { RETRY: true, CONTINUE: true };  // commands whose answer is a new run to open
  var buttons = {};
  var OPERATIONS = { awaitAll: "all of", awaitFirst: "the first of", awaitResult: "the result of" };

  function fact(dl, name, value) {
    if (value === null || value === undefined || value === "") { return; }
    dl.appendChild(h("dt", { text: name }));
    dl.appendChild(h("dd", {}, value));
  }

  function idLinks(ids, limit) {
    var shown = ids.slice(0, limit);
    var out = shown.map(function (id) { return [WF.shortRunLink(id), " "]; });
    if (ids.length > shown.length) { out.push(h("span", { class: "muted", text: "and " + (ids.length - shown.length) + " more" })); }
    return out;
  }

  /* A tag's value as text: strings as they are, anything else as JSON (never as markup) */
  function shownValue(value) {
    return typeof value === "string" ? value : JSON.stringify(value === undefined ? null : value);
  }

  /* "Waiting for all of 3 runs (awaitAll): 2 still pending: <links> · deadline 12:00:05 (in 4.0 s)";
     "Waiting for tag [default]Line1/Level: above 500 (last read 212.5, Good) · deadline ...";
     "Sleeping until 12:00:05 (in 4.0 s)" */
  function renderWaiting(run, now) {
    var box = $("run-waiting");
    var w = run.status === "WAITING" ? run.waitingFor : null;
    if (!w) { box.hidden = true; WF.clear(box); return; }
    var all = w.workflowIds || [], pending = w.pending || [];
    WF.clear(box);
    box.hidden = false;
    box.dataset.operation = w.operation || "";
    box.dataset.pending = String(pending.length);
    if (w.operation === "waitForTag") {
      WF.append(box, [h("strong", { text: "Waiting" }), " for tag ", h("code", { class: "tag-path", text: w.path }),
                      ": " + w.condition + " (last read ", h("span", { class: "last-value", text: shownValue(w.lastValue) }),
                      ", " + (w.lastQuality || "-") + ")" + (w.pollSeconds ? "; read every " + w.pollSeconds + " s" : "")]);
    } else if (w.operation === "sleep") {
      WF.append(box, [h("strong", { text: "Sleeping" }), " until " + WF.fmtTime(w.until) + " (" + WF.fmtRelative(w.until, now) + ")"]);
      return;
    } else {
      var what = [OPERATIONS[w.operation], String(all.length), all.length === 1 ? "run" : "runs"].filter(Boolean).join(" ");
      WF.append(box, [h("strong", { text: "Waiting" }), " for " + what + " (" + (w.operation || "await") + "): " +
                      pending.length + " still pending"]);
      if (pending.length) { WF.append(box, [": ", h("span", { class: "ids" }, idLinks(pending, 12))]); }
    }
    if (w.deadline) {
      var left = w.deadline - now;
      WF.append(box, h("span", { class: "deadline" }, " · deadline " + WF.fmtTime(w.deadline) +
                                (left > 0 ? " (in " + WF.fmtDuration(left) + ")" : " (passed)")));
    }
  }

  /* "Delayed: starts at 12:00:05 (in 4 s)" while the run is DELAYED (a delayed start or a debounced burst) */
  function renderStarts(run, now) {
    var box = $("run-starts");
    if (run.status !== "DELAYED" || run.startsAt === null || run.startsAt === undefined) { box.hidden = true; WF.clear(box); return; }
    WF.clear(box);
    box.hidden = false;
    box.dataset.startsAt = String(run.startsAt);
    WF.append(box, [h("strong", { text: "Delayed" }), ": starts at ", h("span", { class: "at", text: WF.fmtTime(run.startsAt) }),
                    " (" + WF.fmtRelative(run.startsAt, now) + ")",
                    run.debounceKey ? "; a debounced burst (key " + run.debounceKey + "): a later call moves the start on" : ""]);
  }

  /* The error of a run whose replay diverged from its record (its code changed under it), else null */
  function divergence(run) {
    var e = run.error;
    return run.status === "ERROR" && e && e.type === "NonDeterminismError" && typeof e.functionId === "number" ? e : null;
  }

  function called(kind, name) {
    return [(kind || "operation") + " ", h("code", { text: name === null || name === undefined ? "?" : String(name) })];
  }

  /* "Diverged at position 3: the run recorded step 'rinse', the code now calls step 'fill'
     (it took the old branch of patch 'extra-check', which deprecatePatch removed). Continue with current code ..." */
  function renderDiverged(run) {
    var box = $("run-diverged"), e = divergence(run);
    if (!e) { box.hidden = true; WF.clear(box); return; }
    WF.clear(box);
    box.hidden = false;
    box.dataset.functionId = String(e.functionId);
    WF.append(box, [h("strong", { text: "Diverged" }), " at position ", h("span", { class: "position", text: String(e.functionId) }),
                    ": the run recorded ", called(e.recordedKind, e.recordedName), ", the code now calls ",
                    called(e.calledKind, e.calledName)]);
    if (e.patch) {
      WF.append(box, [" (it took the old branch of patch ", h("code", { class: "patch", text: String(e.patch) }),
                      ", which deprecatePatch removed)"]);
    }
    WF.append(box, ". Continue with current code starts a new run that keeps the records before position " +
              e.functionId + " and runs the current code from there.");
  }

  function renderChildren(run, now) {
    var children = run.children || [];
    $("children-card").hidden = !children.length;
    $("children-count").textContent = children.length ? "(" + children.length + ")" : "";
    var body = WF.clear($("children-table").tBodies[0]);
    children.forEach(function (c) {
      var active = !WF.isTerminal(c.status);
      body.appendChild(h("tr", { dataset: { runId: c.workflowId, status: c.status } },
        h("td", {}, WF.runLink(c.workflowId)),
        h("td", { text: c.workflowName }),
        h("td", {}, WF.pill(c.status)),
        h("td", { text: c.phase || "" }),
        h("td", { text: c.partitionKey || "" }),
        h("td", { text: c.startedAt ? WF.fmtTime(c.startedAt) : "-" }),
        h("td", { class: "num", text: WF.fmtDuration(WF.spanMs(c.startedAt, c.completedAt, active ? now : null)) })));
    });
  }

  function renderRun(run, now) {
    document.title = run.workflowName + " " + run.workflowId.substring(0, 8) + " · exchange.workflows";
    $("run-name").textContent = run.workflowName;
    WF.clear($("run-status")).appendChild(WF.pill(run.status));
    WF.clear($("run-phase")).appendChild(WF.pill(run.phase, "phase"));
    var active = !WF.isTerminal(run.status);
    WF.clear($("live-flag")).appendChild(active ? WF.pill("LIVE", "live") : h("span"));
    var dl = WF.clear($("run-facts"));
    fact(dl, "Run id", h("span", { class: "mono", text: run.workflowId }));
    if (run.parentWorkflowId) {
      fact(dl, "Parent", h("span", { id: "parent-link" }, WF.runLink(run.parentWorkflowId)));
      if (run.rootWorkflowId && run.rootWorkflowId !== run.parentWorkflowId) {
        fact(dl, "Root", h("span", { id: "root-link" }, WF.runLink(run.rootWorkflowId)));
      }
    }
    fact(dl, "Version", run.workflowVersion ? h("span", { id: "run-version", class: "mono", text: run.workflowVersion }) : null);
    fact(dl, "Queue", run.queueName);
    fact(dl, "Partition key", run.partitionKey);
    fact(dl, "Priority", String(run.priority));
    fact(dl, "Started by", run.createdBy);
    if (run.scheduleName) {
      fact(dl, "Schedule", h("a", { id: "schedule-link", href: WF.url("/schedules"), text: run.scheduleName }));
      fact(dl, "Scheduled for", run.scheduledAt !== null && run.scheduledAt !== undefined ? WF.fmtTime(run.scheduledAt) : null);
    }
    fact(dl, "Debounce key", run.debounceKey);
    fact(dl, "Created", WF.fmtTime(run.createdAt));
    fact(dl, "Started", run.startedAt ? WF.fmtTime(run.startedAt) : null);
    fact(dl, "Completed", run.completedAt ? WF.fmtTime(run.completedAt) : null);
    fact(dl, "Duration", run.durationMs !== null ? WF.fmtDuration(run.durationMs) : null);
    fact(dl, "Timeout", run.timeoutMs ? WF.fmtDuration(run.timeoutMs) : null);
    fact(dl, "Executor", run.executorId);
    fact(dl, "Recovery attempts", run.recoveryAttempts ? String(run.recoveryAttempts) : null);
    if (run.retryOf) { fact(dl, "Retry of", WF.runLink(run.retryOf)); }
    if (run.retries && run.retries.length) {
      fact(dl, "Retried as", run.retries.map(function (id, i) { return [i ? ", " : "", WF.runLink(id)]; }));
    }
    WF.clear($("run-inputs")).appendChild(WF.json(run.inputs));
    var out = WF.clear($("run-output"));
    if (run.output === null || run.output === undefined) {
      out.appendChild(h("p", { class: "empty", text: active ? "No output yet." : "No output." }));
    } else {
      out.appendChild(WF.json(run.output));
    }
    var errBox = WF.clear($("run-err"));
    if (run.error) {
      errBox.appendChild(h("p", {}, h("strong", { text: run.error.type || "Error" }), ": ", run.error.message || ""));
      if (run.error.traceback) { errBox.appendChild(h("pre", { class: "json traceback", text: run.error.traceback })); }
    } else {
      errBox.appendChild(h("p", { class: "empty", text: "No error." }));
    }
    renderStarts(run, now);
    renderWaiting(run, now);
    renderDiverged(run);
    renderChildren(run, now);
    var events = WF.clear($("events-table").tBodies[0]);
    Object.keys(run.events || {}).sort().forEach(function (key) {
      var ev = run.events[key];
      events.appendChild(h("tr", { dataset: { key: key } }, h("td", { class: "mono", text: key }),
                           h("td", { class: "wrap", text: WF.brief(ev.value) }), h("td", { text: WF.fmtClock(ev.updatedAt) })));
    });
  }

  function logText(value) {
    if (typeof value !== "object" || value === null) { return { kind: "", text: WF.brief(value) }; }
    switch (value.kind) {
      case "status":
        var extra = Object.keys(value).filter(function (k) { return ["kind", "status", "at"].indexOf(k) < 0; })
          .map(function (k) { return k + "=" + WF.brief(value[k]); }).join(" ");
        return { kind: "status", text: value.status + (extra ? "  " + extra : "") };
      case "phase":
        return { kind: "phase", text: value.phase };
      case "command":
        return { kind: "command", text: value.cmd + " by " + value.actor + (value.reason ? " (" + value.reason + ")" : "") +
                 " -> " + value.outcome + (value.why ? ": " + value.why : "") };
      case "step":
        return { kind: "step", text: value.step + " #" + value.functionId + " " + value.event +
                 (value.status ? " " + value.status : "") + (value.durationMs !== undefined ? " in " + WF.fmtDuration(value.durationMs) : "") +
                 (value.attempts > 1 ? " after " + value.attempts + " attempts" : "") };
      case "progress":
        return { kind: "progress", text: value.message + (value.extra ? "  " + JSON.stringify(value.extra) : "") };
      default:
        return { kind: value.kind || "", text: JSON.stringify(value) };
    }
  }

  function appendLog(entries) {
    var box = $("log");
    var atBottom = box.scrollTop + box.clientHeight >= box.scrollHeight - 4;
    entries.forEach(function (e) {
      if (e.offset <= afterOffset) { return; }  // already shown (a command's refresh raced the poll)
      var t = logText(e.value);
      box.appendChild(h("div", { class: "entry", dataset: { offset: e.offset } }, h("span", { class: "ts", text: WF.fmtClock(e.at) }),
                        t.kind ? h("span", { class: "kind", text: t.kind }) : null, t.text));
      afterOffset = Math.max(afterOffset, e.offset);
      logCount += 1;
    });
    if (entries.length && atBottom) { box.scrollTop = box.scrollHeight; }
    $("log-count").textContent = logCount ? "(" + logCount + " entries)" : "";
  }

  function appendHistory(rows) {
    var body = $("history-table").tBodies[0];
    rows.forEach(function (r) {
      if (r.id <= afterHistoryId) { return; }
      afterHistoryId = r.id;
      body.insertBefore(h("tr", {}, h("td", { class: "num", text: r.id }), h("td", { text: WF.fmtClock(r.at) }),
                          h("td", { class: "mono", text: r.key }), h("td", { class: "wrap", text: WF.brief(r.value) })),
                        body.firstChild);
    });
  }

  /* a command a parent passed on to this run: "from parent command #12" (linking to the parent run) */
  function cause(c, parentId) {
    if (c.causeId === null || c.causeId === undefined) { return null; }
    var label = "from " + (parentId ? "parent " : "") + "command #" + c.causeId;
    return h("div", { class: "cause" }, parentId ? h("a", { href: WF.url("/runs/" + encodeURIComponent(parentId)), text: label })
                                                 : label);
  }

  function renderCommands(commands, parentId) {
    var body = WF.clear($("commands-table").tBodies[0]);
    commands.slice().reverse().forEach(function (c) {
      var data = { commandId: c.id };
      if (c.causeId !== null && c.causeId !== undefined) { data.causeId = c.causeId; }
      body.appendChild(h("tr", { dataset: data },
        h("td", { class: "num", text: c.id }),
        h("td", { text: WF.fmtClock(c.receivedAt) }),
        h("td", { class: "mono", text: c.cmd }),
        h("td", {}, c.actor + (c.actorRoles && c.actorRoles.length ? " [" + c.actorRoles.join(", ") + "]" : ""),
          cause(c, parentId)),
        h("td", { class: "wrap", text: c.reason || "" }),
        h("td", {}, WF.pill(c.state)),
        h("td", { class: "wrap", text: c.outcomeReason || "" }),
        h("td", { text: c.decidedAt ? WF.fmtClock(c.decidedAt) : "" })));
    });
    if (!commands.length) { body.appendChild(h("tr", {}, h("td", { colspan: 8, class: "empty", text: "No commands sent." }))); }
  }

  function renderButtons(choices, run) {
    var bar = $("command-bar");
    (choices || []).forEach(function (c) {
      if (c.cmd === "CONTINUE" && !divergence(run)) { return; }  // only for a run whose replay diverged
      var btn = buttons[c.cmd];
      if (!btn) {
        btn = h("button", { type: "button", id: "cmd-" + c.cmd, class: "cmd cmd-" + c.cmd, text: LABELS[c.cmd] || c.cmd,
                            onclick: function () { send(c.cmd); } });
        buttons[c.cmd] = btn;
        bar.insertBefore(btn, $("command-reason"));
      }
      btn.disabled = busy || !c.allowed;
      btn.title = c.allowed ? "send " + c.cmd : (c.reason || "not allowed now");
      btn.dataset.allowed = c.allowed ? "true" : "false";
    });
  }

  function send(cmd) {
    var reason = $("command-reason").value.trim();
    busy = true;
    Object.keys(buttons).forEach(function (k) { buttons[k].disabled = true; });
    WF.api("POST", "/api/runs/" + runId + "/commands", { cmd: cmd, reason: reason || null }).then(function (env) {
      busy = false;
      var box = WF.notice($("command-result"), env);
      if (NEW_RUN[cmd] && env.ok) {
        WF.append(box, [" ", WF.runLink(env.data.workflowId, "open the new run")]);
      }
      box.dataset.cmd = cmd;
      $("command-reason").value = "";
      refresh();
    });
  }

  function refresh() {
    var url = "/api/runs/" + runId + "/live?afterOffset=" + afterOffset + "&afterHistoryId=" + afterHistoryId;
    return WF.api("GET", url).then(function (env) {
      if (!env.ok) {
        WF.notice($("run-error"), env);
        return env.httpStatus !== 404;
      }
      $("run-error").hidden = true;
      var data = env.data;
      renderRun(data.run, (env.meta && env.meta.tsMs) || Date.now());
      appendLog(data.log || []);
      appendHistory(data.history || []);
      afterHistoryId = Math.max(afterHistoryId, data.lastHistoryId);
      renderCommands(data.commands || [], data.run.parentWorkflowId);
      renderButtons(data.console ? data.console.choices : [], data.run);
      if (WF.isTerminal(data.run.status)) {
        finalPolls += 1;
        return finalPolls < 2;  // one more poll after the end picks up the last log lines, then stop
      }
      finalPolls = 0;
      return true;
    });
  }

  if (!runId) { return; }
  $("steps-link").setAttribute("href", WF.url("/runs/" + runId + "/steps"));
  $("children-list-link").setAttribute("href", WF.url("/runs?parentWorkflowId=" + runId));
  WF.session.then(function () {
    poll = WF.poller(function () {
      return refresh().then(function (again) { if (!again && poll) { poll.stop(); } return again; });
    }, 500);
  });
})();
