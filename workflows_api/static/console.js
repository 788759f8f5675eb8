/* Shared helpers of the console pages: API calls with the CSRF token, DOM building (text only), formatting. */
(function () {
  "use strict";
  var WF = {};
  window.WF = WF;
  WF.base = document.body.getAttribute("data-base") || "";
  WF.TERMINAL = ["SUCCESS", "ERROR", "CANCELLED", "STOPPED", "MAX_RECOVERY_ATTEMPTS_EXCEEDED"];
  WF.STATUSES = ["DELAYED", "ENQUEUED", "PENDING", "RUNNING", "HELD", "WAITING", "SUCCESS", "ERROR", "CANCELLED",
                 "STOPPED", "MAX_RECOVERY_ATTEMPTS_EXCEEDED"];
  var csrfToken = null;

  WF.url = function (path) { return WF.base + path; };

  WF.toLogin = function () {
    var here = window.location.pathname + window.location.search;
    window.location.assign(WF.url("/login") + "?next=" + encodeURIComponent(here));
  };

  /* fetch JSON from the console API; resolves to the envelope with .httpStatus (never rejects on HTTP errors) */
  WF.api = function (method, path, body) {
    var headers = { "Accept": "application/json" };
    var init = { method: method, headers: headers, credentials: "same-origin", cache: "no-store" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    if (method !== "GET" && csrfToken) { headers["X-CSRF-Token"] = csrfToken; }
    return fetch(WF.url(path), init).then(function (resp) {
      return resp.json().catch(function () {
        return { ok: false, code: "BAD_RESPONSE", message: "HTTP " + resp.status, data: {} };
      }).then(function (env) {
        env.httpStatus = resp.status;
        if (resp.status === 401 && env.code === "UNAUTHENTICATED") { WF.toLogin(); }
        return env;
      });
    }, function (err) {
      return { ok: false, code: "NETWORK", message: "the gateway did not answer (" + err + ")", data: {}, httpStatus: 0 };
    });
  };

  /* h("td", {class: "num", text: "3"}, child, ...): attributes are set as properties or attributes, text as text */
  WF.h = function (tag, props) {
    var el = document.createElement(tag);
    props = props || {};
    Object.keys(props).forEach(function (key) {
      var value = props[key];
      if (value === undefined || value === null || value === false) { return; }
      if (key === "text") { el.textContent = String(value); }
      else if (key === "class") { el.className = value; }
      else if (key.indexOf("on") === 0) { el.addEventListener(key.substring(2), value); }
      else if (key === "href") { el.setAttribute("href", value); }
      else if (key === "dataset") { Object.keys(value).forEach(function (k) { el.dataset[k] = value[k]; }); }
      else if (value === true) { el.setAttribute(key, ""); }
      else { el.setAttribute(key, String(value)); }
    });
    for (var i = 2; i < arguments.length; i++) { WF.append(el, arguments[i]); }
    return el;
  };

  // Field errors of a form: each field's message goes in its [data-error-for="<key>"] element inside `scope`.
  WF.fieldError = function (scope, key, text) {
    var box = scope.querySelector('[data-error-for="' + CSS.escape(key) + '"]');
    if (!box) { return false; }
    box.textContent = text;
    var field = box.closest(".field");
    if (field) { field.classList.add("invalid"); }
    return true;
  };

  WF.clearFieldErrors = function (scope) {
    Array.prototype.forEach.call(scope.querySelectorAll("[data-error-for]"), function (b) { b.textContent = ""; });
    Array.prototype.forEach.call(scope.querySelectorAll(".field.invalid"), function (f) { f.classList.remove("invalid"); });
  };

  WF.append = function (el, child) {
    if (child === undefined || child === null || child === false) { return el; }
    if (Array.isArray(child)) { child.forEach(function (c) { WF.append(el, c); }); return el; }
    el.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
    return el;
  };

  WF.clear = function (el) { while (el.firstChild) { el.removeChild(el.firstChild); } return el; };
  WF.$ = function (id) { return document.getElementById(id); };

  WF.pill = function (word, extra) {
    return WF.h("span", { class: "pill s-" + String(word || "").replace(/[^A-Z_]/g, "") + (extra ? " " + extra : ""),
                          text: word || "-" });
  };

  WF.isTerminal = function (status) { return WF.TERMINAL.indexOf(status) >= 0; };

  function pad(n, w) { var s = String(n); while (s.length < (w || 2)) { s = "0" + s; } return s; }

  WF.fmtTime = function (ms) {
    if (ms === null || ms === undefined) { return "-"; }
    var d = new Date(ms);
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + " " + pad(d.getHours()) + ":" +
      pad(d.getMinutes()) + ":" + pad(d.getSeconds());
  };

  WF.fmtClock = function (ms) {
    if (ms === null || ms === undefined) { return "-"; }
    var d = new Date(ms);
    return pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds()) + "." + pad(d.getMilliseconds(), 3);
  };

  WF.fmtDuration = function (ms) {
    if (ms === null || ms === undefined) { return "-"; }
    if (ms < 1000) { return Math.round(ms) + " ms"; }
    var s = ms / 1000;
    if (s < 60) { return s.toFixed(1) + " s"; }
    var m = Math.floor(s / 60);
    if (m < 60) { return m + " min " + pad(Math.floor(s % 60)) + " s"; }
    return Math.floor(m / 60) + " h " + pad(m % 60) + " min";
  };

  /* "in 9 min 58 s", "3 s ago", "now": the time from `now` (the server's clock when given) to `ms` */
  WF.fmtRelative = function (ms, now) {
    if (ms === null || ms === undefined) { return ""; }
    var diff = ms - (now === null || now === undefined ? Date.now() : now), abs = Math.abs(diff), text;
    if (abs < 1000) { return "now"; }
    if (abs < 60000) { text = Math.floor(abs / 1000) + " s"; }
    else if (abs < 3600000) { text = Math.floor(abs / 60000) + " min " + pad(Math.floor(abs % 60000 / 1000)) + " s"; }
    else if (abs < 2 * 86400000) { text = Math.floor(abs / 3600000) + " h " + pad(Math.floor(abs % 3600000 / 60000)) + " min"; }
    else { text = Math.floor(abs / 86400000) + " days"; }
    return diff > 0 ? "in " + text : text + " ago";
  };

  WF.json = function (value) {
    return WF.h("pre", { class: "json", text: value === undefined ? "" : JSON.stringify(value, null, 2) });
  };

  /* value as one line of text for tables (strings as they are, anything else as JSON) */
  WF.brief = function (value) {
    if (value === null || value === undefined) { return ""; }
    return typeof value === "string" ? value : JSON.stringify(value);
  };

  WF.notice = function (el, env, okText) {
    WF.clear(el);
    el.hidden = false;
    var ok = env.ok;
    el.className = "notice " + (ok ? "ok" : "err");
    WF.append(el, WF.h("strong", { text: env.code }));
    WF.append(el, " " + (okText || env.message || ""));
    return el;
  };

  /* run fn() (a promise) again `interval` ms after each completion until stop() */
  WF.poller = function (fn, interval) {
    var stopped = false, timer = null;
    function tick() {
      if (stopped) { return; }
      Promise.resolve(fn()).catch(function () { return null; }).then(function (again) {
        if (!stopped && again !== false) { timer = window.setTimeout(tick, interval); }
      });
    }
    tick();
    return { stop: function () { stopped = true; if (timer) { window.clearTimeout(timer); } } };
  };

  WF.runLink = function (id, text) {
    return WF.h("a", { href: WF.url("/runs/" + encodeURIComponent(id)), class: "mono", text: text || id });
  };

  WF.shortId = function (id) { return String(id || "").substring(0, 8); };

  /* a link to a run named by the first 8 characters of its id (the whole id in its tooltip) */
  WF.shortRunLink = function (id) {
    var a = WF.runLink(id, WF.shortId(id));
    a.title = String(id);
    return a;
  };

  /* how long a run (or a child row) has taken: start to end, or to `now` while it is still going */
  WF.spanMs = function (startedAt, completedAt, now) {
    if (startedAt === null || startedAt === undefined) { return null; }
    var end = completedAt !== null && completedAt !== undefined ? completedAt : now;
    return end === null || end === undefined ? null : Math.max(0, end - startedAt);
  };

  /* the signed-in user: fills the top bar; pages wait for it before their first state-changing call */
  WF.session = WF.api("GET", "/api/session").then(function (env) {
    if (!env.ok) { return null; }
    csrfToken = env.data.csrfToken;
    var name = WF.$("who-name"), roles = WF.$("who-roles");
    if (name) { name.textContent = env.data.user; }
    if (roles) { roles.textContent = "(" + env.data.roles.join(", ") + ")"; }
    return env.data;
  });

  document.addEventListener("DOMContentLoaded", function () {
    var page = document.body.getAttribute("data-page");
    Array.prototype.forEach.call(document.querySelectorAll("[data-nav]"), function (a) {
      if (a.getAttribute("data-nav") === page) { a.classList.add("active"); }
    });
    var logout = WF.$("logout");
    if (logout) {
      logout.addEventListener("click", function () {
        WF.api("POST", "/api/logout", {}).then(function () { window.location.assign(WF.url("/login")); });
      });
    }
  });
})();
