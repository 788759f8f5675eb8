/* The steps timeline: one row per step, child start and await on a time axis, the ISA-88 phase lane, held and
waiting intervals shaded.

  step         a bar from its start to its end, coloured by its status
  child start  a diamond at the moment the child was started (a link to the child run), with the child run's own
               span from its start to its end (or now) as a faint bar behind it
  await        an outlined bar from the moment the run first had to wait to the moment it recorded the outcome;
               dashed while it is still pending

Drawn as SVG with DOM calls (no library): names and values go in as text nodes, never as markup.
*/
(function () {
  "use strict";
  var NS = "http://www.w3.org/2000/svg";
  var W = 1000, LEFT = 190, RIGHT = 16, TOP = 24, LANE = 16, ROW = 15, BAR = 10;
  var TICKS = [100, 200, 500, 1000, 2000, 5000, 10000, 15000, 30000, 60000, 120000, 300000, 600000, 900000,
               1800000, 3600000, 7200000, 21600000, 43200000, 86400000];

  function el(tag, attrs, text) {
    var node = document.createElementNS(NS, tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, String(attrs[k])); });
    if (text !== undefined) { node.textContent = String(text); }
    return node;
  }

  function titled(node, text) { node.appendChild(el("title", {}, text)); return node; }

  function tickLabel(ms, step) {
    if (step < 1000) { return "+" + (ms / 1000).toFixed(1) + "s"; }
    var s = Math.round(ms / 1000);
    if (s < 60) { return "+" + s + "s"; }
    var m = Math.floor(s / 60), rest = s % 60;
    if (m < 60) { return "+" + m + ":" + (rest < 10 ? "0" : "") + rest; }
    return "+" + Math.floor(m / 60) + "h" + (m % 60 < 10 ? "0" : "") + (m % 60);
  }

  /* phases: [{phase, at}] in order -> [{phase, from, to}] */
  function intervals(phases, end) {
    var out = [];
    phases.forEach(function (p, i) {
      var to = i + 1 < phases.length ? phases[i + 1].at : end;
      out.push({ phase: p.phase, from: p.at, to: Math.max(to, p.at) });
    });
    return out;
  }

  function entryFrom(s) { return s.waitFrom || s.startedAt; }

  function short(text, n) { return text.length > n ? text.substring(0, n - 1) + "…" : text; }

  /* opts: {run, steps (kinds "step", "child", "await", "wait"; a pending await or tag wait has pending: true),
     phases [{phase, at}], now}
     a step of kind "await" may carry waitFrom (when the run first had to wait, see steps.js) */
  WF.drawTimeline = function (container, opts) {
    var run = opts.run, steps = opts.steps, now = opts.now;
    var active = !WF.isTerminal(run.status);
    var children = {};
    (run.children || []).forEach(function (c) { children[c.workflowId] = c; });
    var starts = [run.startedAt || run.createdAt];
    steps.forEach(function (s) { if (entryFrom(s)) { starts.push(entryFrom(s)); } });
    opts.phases.forEach(function (p) { starts.push(p.at); });
    var t0 = Math.min.apply(null, starts.filter(function (v) { return v; }));
    var ends = [run.completedAt || (active ? now : run.updatedAt || now)];
    steps.forEach(function (s) { if (s.completedAt) { ends.push(s.completedAt); } if (s.pending) { ends.push(now); } });
    var t1 = Math.max.apply(null, ends.concat([t0 + 1000]));
    var running = active && run.status === "RUNNING";
    var rows = steps.length + (running ? 1 : 0);
    var H = TOP + LANE + 8 + Math.max(rows, 1) * ROW + 8;
    var span = t1 - t0, plot = W - LEFT - RIGHT;
    function x(t) { return LEFT + Math.max(0, Math.min(1, (t - t0) / span)) * plot; }

    var svg = el("svg", { viewBox: "0 0 " + W + " " + H, role: "img", "aria-label": "timeline of the steps",
                          id: "timeline-svg" });
    svg.appendChild(el("title", {}, "Steps of " + run.workflowName + " on a time axis"));

    // held and waiting intervals behind everything
    var BANDS = { HELD: "held-band", HOLDING: "holding-band", WAITING: "waiting-band" };
    var phaseSpans = intervals(opts.phases, t1);
    phaseSpans.forEach(function (p) {
      if (BANDS[p.phase]) {
        var w = Math.max(2, x(p.to) - x(p.from));
        svg.appendChild(titled(el("rect", { x: x(p.from), y: TOP, width: w, height: H - TOP,
                                            class: BANDS[p.phase], "data-phase": p.phase }),
                               p.phase + " " + WF.fmtClock(p.from) + " - " + WF.fmtClock(p.to) + " (" +
                               WF.fmtDuration(p.to - p.from) + ")"));
      }
    });

    // axis
    var step = TICKS[TICKS.length - 1];
    for (var i = 0; i < TICKS.length; i++) { if (span / TICKS[i] <= 10) { step = TICKS[i]; break; } }
    var axis = el("g", { class: "axis" });
    for (var t = 0; t <= span + 1; t += step) {
      axis.appendChild(el("line", { x1: x(t0 + t), x2: x(t0 + t), y1: TOP - 4, y2: H - 4 }));
      axis.appendChild(el("text", { x: x(t0 + t) + 2, y: TOP - 8 }, t === 0 ? WF.fmtClock(t0).substring(0, 8) : tickLabel(t, step)));
    }
    svg.appendChild(axis);

    // phase lane
    var lane = TOP + 2;
    svg.appendChild(el("text", { x: 4, y: lane + 11, class: "label" }, "phase"));
    phaseSpans.forEach(function (p) {
      var w = Math.max(1.5, x(p.to) - x(p.from));
      svg.appendChild(titled(el("rect", { x: x(p.from), y: lane, width: w, height: LANE - 4, class: "phase-" + p.phase }),
                             p.phase + " from " + WF.fmtClock(p.from)));
      if (w > 48) {
        svg.appendChild(el("text", { x: x(p.from) + 3, y: lane + 9.5, fill: "#fff", "font-size": 9 }, p.phase));
      }
    });

    // one row per step, child start and await
    var y = TOP + LANE + 8;
    steps.forEach(function (s) {
      if (s.kind === "child") { childRow(s, y); }
      else if (s.kind === "await" || s.kind === "wait") { awaitRow(s, y); }
      else { stepRow(s, y); }
      y += ROW;
    });

    function label(text, y) {
      svg.appendChild(el("text", { x: 4, y: y + BAR - 1, class: "label" }, short(text, 30)));
    }

    function stepRow(s, y) {
      var name = "#" + s.functionId + " " + s.name;
      label(name, y);
      var from = s.startedAt || s.completedAt || t0, to = s.completedAt || from;
      svg.appendChild(titled(el("rect", { x: x(from), y: y, width: Math.max(2, x(to) - x(from)), height: BAR,
                                          class: "bar-" + s.status, "data-function-id": s.functionId, "data-kind": "step" }),
                             name + ": " + s.status + ", " + WF.fmtDuration(s.durationMs) + " from " + WF.fmtClock(from)));
    }

    /* a diamond (a square turned 45 degrees) where the child was started, linked to the child run, over the child
       run's own span */
    function childRow(s, y) {
      var childId = typeof s.output === "string" ? s.output : null;
      var child = childId ? children[childId] : null;
      label("#" + s.functionId + " child " + (child ? (child.partitionKey || child.workflowName) : s.name.replace(/^startChild:/, "")), y);
      var group = el("g", {});
      var target = group;
      if (childId) {
        target = el("a", { href: WF.url("/runs/" + encodeURIComponent(childId)), class: "child-link",
                           "data-child-id": childId });
        group.appendChild(target);
      }
      var about = "#" + s.functionId + " " + s.name + (childId ? " started run " + childId : "") +
        (child ? " (" + child.status + ")" : "") + " at " + WF.fmtClock(s.startedAt);
      if (child && child.startedAt) {
        var end = child.completedAt || (WF.isTerminal(child.status) ? child.startedAt : now);
        target.appendChild(titled(el("rect", { x: x(child.startedAt), y: y + 2, width: Math.max(2, x(end) - x(child.startedAt)),
                                               height: BAR - 4, class: "child-span s-" + String(child.status).replace(/[^A-Z_]/g, ""),
                                               "data-child-id": childId }),
                                  "child run " + childId + ": " + child.status + ", " +
                                  WF.fmtDuration(WF.spanMs(child.startedAt, child.completedAt, now)) + " from " +
                                  WF.fmtClock(child.startedAt)));
      }
      var at = s.startedAt || s.completedAt || t0, side = BAR * 0.72;
      var cx = x(at), cy = y + BAR / 2;
      target.appendChild(titled(el("rect", { x: cx - side / 2, y: cy - side / 2, width: side, height: side,
                                             transform: "rotate(45 " + cx + " " + cy + ")",
                                             class: "child-mark" + (s.status === "ERROR" ? " bar-ERROR" : ""),
                                             "data-function-id": s.functionId, "data-kind": "child" }), about));
      svg.appendChild(group);
    }

    function awaitRow(s, y) {
      var name = "#" + s.functionId + " " + s.name;
      label(name, y);
      var from = entryFrom(s) || s.completedAt || t0, to = s.pending ? now : (s.completedAt || from);
      var state = s.pending ? "pending" : s.status;
      var what = s.pending ? "waiting since " + WF.fmtClock(from) + " (" + WF.fmtDuration(now - from) + ")"
        : s.status + (s.error ? " (" + (s.error.type || "Error") + ")" : "") + ", waited " + WF.fmtDuration(to - from) +
          " from " + WF.fmtClock(from);
      svg.appendChild(titled(el("rect", { x: x(from), y: y + 1, width: Math.max(2, x(to) - x(from)), height: BAR - 2,
                                          rx: 2, class: "await-bar await-" + state, "data-function-id": s.functionId,
                                          "data-kind": s.kind }),
                             name + ": " + what));
    }

    if (running) {
      var lastOp = steps.length ? steps[steps.length - 1] : null;
      var last = lastOp ? (lastOp.completedAt || t0) : (run.startedAt || t0);
      svg.appendChild(el("text", { x: 4, y: y + BAR - 1, class: "label" }, "(executing)"));
      svg.appendChild(titled(el("rect", { x: x(last), y: y, width: Math.max(2, x(now) - x(last)), height: BAR,
                                          class: "bar-running" }), "the next step is executing"));
    }
    if (!steps.length && !running) {
      svg.appendChild(el("text", { x: LEFT, y: y + BAR, class: "label" }, "no steps recorded"));
    }
    WF.clear(container).appendChild(svg);
    return svg;
  };
})();
