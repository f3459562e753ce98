// The admin portal's only script: copy buttons, the session timer, and UI events posted to the embedding app.
// Pages work without it (values can be selected and copied by hand; the server enforces the session's end).
(function () {
  "use strict";
  var node = document.getElementById("portal-data");
  if (!node) return;
  var data = JSON.parse(node.textContent);
  var framed = window.parent !== window;

  // Messages go to the registered app origins only, never "*": a page of another origin that frames the portal
  // (which CSP frame-ancestors already blocks) would receive nothing. Where the browser names the parent's
  // origin (ancestorOrigins), only that one is used.
  function targets() {
    var origins = data.origins || [];
    var ancestors = window.location.ancestorOrigins;
    if (ancestors && ancestors.length) {
      return origins.indexOf(ancestors[0]) >= 0 ? [ancestors[0]] : [];
    }
    return origins;
  }

  function post(type, payload) {
    if (!framed) return;
    var message = { type: type, data: payload || {} };
    targets().forEach(function (origin) {
      try { window.parent.postMessage(message, origin); } catch (e) { /* a non-matching origin is dropped */ }
    });
  }

  (data.events || []).forEach(function (event) { post(event.type, event.data); });

  var banner = document.getElementById("session-banner");
  function say(text) {
    if (!banner) return;
    banner.textContent = text;
    banner.hidden = false;
  }

  var left = Number(data.seconds_left) * 1000;
  var warnAt = left - Number(data.warn_before) * 1000;
  var base = { organization_id: data.organization_id };
  var started = Date.now();
  function endsAt() { return new Date(started + Math.max(0, left)).toISOString(); }
  if (left > 0) {
    // A page opened less than warn_before from the end warns at once.
    window.setTimeout(function () {
      post("PORTAL_SESSION_WARNING", Object.assign({ expire_time: endsAt() }, base));
      var minutes = Math.max(1, Math.round((left - (Date.now() - started)) / 60000));
      say("Your session ends in about " + minutes + " minute" + (minutes === 1 ? "" : "s") + ". Save your work; open a new portal link to continue.");
    }, Math.max(0, warnAt));
  }
  window.setTimeout(function () {
    post("PORTAL_SESSION_EXPIRY", Object.assign({ expire_time: new Date().toISOString() }, base));
    say("Your session has ended. Open a new portal link to continue.");
    document.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
  }, Math.max(0, left));

  // Identity providers refuse to be framed: inside an app's frame, the test sign-in opens in a new tab (the
  // session cookie is there too when the app and Entryway share a site; see docs/portal.md).
  if (framed) {
    document.querySelectorAll("a[data-leaves-frame]").forEach(function (link) { link.target = "_blank"; });
  }

  document.querySelectorAll("[data-copy]").forEach(function (button) {
    button.addEventListener("click", function () {
      var input = document.getElementById(button.getAttribute("data-copy"));
      if (!input) return;
      var label = button.innerHTML;
      function done(text) {
        button.textContent = text;
        window.setTimeout(function () { button.innerHTML = label; }, 1500);
      }
      input.select();
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(input.value).then(function () { done("Copied"); }, function () { done("Press Ctrl+C"); });
      } else {
        try { document.execCommand("copy"); done("Copied"); } catch (e) { done("Press Ctrl+C"); }
      }
    });
  });
})();
