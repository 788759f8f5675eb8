/* Queues page: per queue counts by status (WAITING: parked until the runs they await end), limits, active partitions, age of the oldest enqueued run; refreshed every 2 s. */
(function () {
  "use strict";
  var h = WF.h, $ = WF.$;

  function limits(q) {
    var l = q.limits || {};
    var parts = [];
    parts.push("all gateways: " + (l.concurrency || "∞"));
    parts.push("per gateway: " + (l.workerConcurrency || "∞"));
    if (l.rateLimit) { parts.push("rate: " + l.rateLimit + " / " + l.ratePeriodSeconds + " s"); }
    if (!q.declared) { parts.push("(not declared)"); }
    return parts.join(" · ");
  }

  function count(q, status) {
    var n = (q.counts || {})[status] || 0;
    var link = h("a", { href: WF.url("/runs?queueName=" + encodeURIComponent(q.name) + "&status=" + status), text: String(n) });
    return h("td", { class: "num", dataset: { status: status } }, link);
  }

  function finished(q) {
    var f = q.finishedLast24h || {};
    var keys = Object.keys(f).sort();
    if (!keys.length) { return h("td", { class: "muted", text: "none" }); }
    return h("td", {}, keys.map(function (k) { return [WF.pill(k), " " + f[k] + " "]; }));
  }

  function load() {
    return WF.api("GET", "/api/queues").then(function (env) {
      var body = WF.clear($("queues-table").tBodies[0]);
      if (!env.ok) { WF.notice($("queues-error"), env); return; }
      $("queues-error").hidden = true;
      env.data.queues.forEach(function (q) {
        body.appendChild(h("tr", { dataset: { queue: q.name } },
          h("td", { class: "mono" }, h("a", { href: WF.url("/runs?queueName=" + encodeURIComponent(q.name)), text: q.name })),
          count(q, "ENQUEUED"), count(q, "PENDING"), count(q, "RUNNING"), count(q, "HELD"), count(q, "WAITING"),
          finished(q),
          h("td", { text: limits(q) }),
          h("td", { class: "wrap", text: (q.activePartitions || []).join(", ") }),
          h("td", { class: "num", text: q.oldestWaitingMs === null || q.oldestWaitingMs === undefined ? "-" : WF.fmtDuration(q.oldestWaitingMs) })));
      });
      if (!env.data.queues.length) { body.appendChild(h("tr", {}, h("td", { colspan: 10, class: "empty", text: "No queues." }))); }
    });
  }

  WF.poller(load, 2000);
})();
