/* Tags page (read-only): the tags below a folder with their value, quality and time, refreshed every 2 s and when the
folder changes (kept in the URL: /tags?folder=[default]Line1). A value is shown as text (a string as it is, anything
else as JSON), never as markup; a quality that is not good gets the "bad" style. */
(function () {
  "use strict";
  var h = WF.h, $ = WF.$;
  var LIMIT = 500;      // tags asked for; data.truncated says there are more
  var POLL_MS = 2000;
  var TYPING_MS = 300;  // the folder field applies itself this long after the last key
  var folder = "";      // the folder shown ("" is the default provider's root)
  var poll = null;
  var typing = null;

  function valueCell(value) {
    if (value === null || value === undefined) { return h("td", { class: "mono value muted", text: "null" }); }
    var kind = Array.isArray(value) ? "array" : typeof value;
    return h("td", { class: "mono value", dataset: { type: kind }, text: WF.brief(value) });
  }

  function row(tag) {
    return h("tr", { class: tag.good ? null : "bad", dataset: { path: tag.path } },
      h("td", { class: "mono path", text: tag.path }),
      valueCell(tag.value),
      h("td", {}, h("span", { class: "quality" + (tag.good ? " good" : " bad"), text: tag.quality || "-" })),
      h("td", { class: "time", text: WF.fmtTime(tag.timestamp),
                title: tag.timestamp === null || tag.timestamp === undefined ? null : WF.fmtRelative(tag.timestamp) }));
  }

  function emptyRow() {
    return h("tr", { class: "empty-state" }, h("td", { colspan: 4, class: "empty" },
      h("div", { text: folder ? "No tags under " + folder + "." : "No tags yet." }),
      h("div", {}, "Tags are written by workflows (", h("code", { text: "exchange.workflows.steps.tags.write" }),
        "), by ", h("code", { text: "./gateway run --tags FILE" }), " when the gateway starts, or by console scripts (",
        h("code", { text: "system.tag.writeBlocking" }), ").")));
  }

  function load() {
    var asked = folder;
    var q = new URLSearchParams();
    if (asked) { q.set("folder", asked); }
    q.set("limit", String(LIMIT));
    return WF.api("GET", "/api/tags?" + q.toString()).then(function (env) {
      if (asked !== folder) { return; }  // the folder changed while this answer was on its way
      var body = WF.clear($("tags-table").tBodies[0]);
      var note = $("tags-truncated");
      if (!env.ok) { note.hidden = true; WF.notice($("tags-error"), env); return; }
      $("tags-error").hidden = true;
      env.data.tags.forEach(function (tag) { body.appendChild(row(tag)); });
      if (!env.data.tags.length) { body.appendChild(emptyRow()); }
      note.hidden = !env.data.truncated;
      note.textContent = !env.data.truncated ? "" : "Showing the first " + env.data.tags.length + " tags " +
        (asked ? "under " + asked : "of the default provider") + "; there are more. Name a folder to see the rest.";
    });
  }

  function apply() {
    if (typing) { window.clearTimeout(typing); typing = null; }
    folder = $("f-folder").value.trim();
    var q = new URLSearchParams();
    if (folder) { q.set("folder", folder); }
    window.history.replaceState(null, "", WF.url("/tags") + (q.toString() ? "?" + q.toString() : ""));
    if (poll) { poll.stop(); }
    poll = WF.poller(load, POLL_MS);
  }

  $("filters").addEventListener("submit", function (event) { event.preventDefault(); apply(); });
  $("f-folder").addEventListener("input", function () {
    if (typing) { window.clearTimeout(typing); }
    typing = window.setTimeout(function () {
      typing = null;
      if ($("f-folder").value.trim() !== folder) { apply(); }
    }, TYPING_MS);
  });

  $("f-folder").value = new URLSearchParams(window.location.search).get("folder") || "";
  apply();
})();
