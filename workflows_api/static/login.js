/* Sign-in page: POST /api/login (JSON), then go where the user was heading (a local path only). */
(function () {
  "use strict";
  var base = document.body.getAttribute("data-base") || "";

  function target() {
    var next = new URLSearchParams(window.location.search).get("next") || "";
    // only a path on this site: "/runs?x" yes, "//evil.example" or "https://..." no
    if (next.charAt(0) !== "/" || next.charAt(1) === "/" || next.charAt(1) === "\\") { return base + "/"; }
    return next;
  }

  document.getElementById("login-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var box = document.getElementById("login-error");
    box.hidden = true;
    fetch(base + "/api/login", {
      method: "POST", credentials: "same-origin", cache: "no-store",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify({ username: document.getElementById("username").value,
                             password: document.getElementById("password").value })
    }).then(function (resp) { return resp.json(); }).then(function (env) {
      if (env.ok) { window.location.assign(target()); return; }
      box.textContent = env.message || env.code;
      box.hidden = false;
    }, function (err) {
      box.textContent = "the gateway did not answer (" + err + ")";
      box.hidden = false;
    });
  });
})();
