// Turns notices on or off for this device (web push). The service worker
// (/sw.js) shows them; what arrives only ever says that something is
// waiting, never what anyone wrote. Without JavaScript, mail still works.
(function () {
  "use strict";
  var section = document.getElementById("devices");
  if (!section) { return; }
  var status = document.getElementById("push-status");
  var actions = document.getElementById("push-actions");
  var on = document.getElementById("push-on");
  var off = document.getElementById("push-off");
  var csrfField = document.querySelector("input[name=csrf]");
  var csrf = csrfField ? csrfField.value : "";
  function say(text) { status.textContent = text; }
  if (!("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window)) {
    say("This browser can't show notices from Trellis. Mail still works.");
    return;
  }
  function serverKey() {
    var text = section.getAttribute("data-push-key").replace(/-/g, "+").replace(/_/g, "/");
    while (text.length % 4) { text += "="; }
    var raw = atob(text);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) { bytes[i] = raw.charCodeAt(i); }
    return bytes;
  }
  function post(path, body) {
    return fetch(path, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body)
    }).then(function (response) {
      if (!response.ok && response.status !== 404) { throw new Error("refused"); }
    });
  }
  function show(subscribed) {
    actions.hidden = false;
    on.hidden = subscribed;
    off.hidden = !subscribed;
    if (subscribed) { say("Notices are on for this device."); }
  }
  function done(flag) { window.location.replace("/account/notices?done=" + flag + "#devices"); }
  function failed() {
    on.disabled = false;
    off.disabled = false;
    say("That didn't work just now. Please try again later; mail still works.");
  }
  navigator.serviceWorker.register("/sw.js", { scope: "/" }).then(function () {
    return navigator.serviceWorker.ready;
  }).then(function (registration) {
    return registration.pushManager.getSubscription().then(function (current) {
      show(Boolean(current));
      on.addEventListener("click", function () {
        on.disabled = true;
        Notification.requestPermission().then(function (permission) {
          if (permission !== "granted") {
            on.disabled = false;
            say("This browser blocks notices from Trellis. You can allow them in its settings, then try again.");
            return null;
          }
          return registration.pushManager.subscribe({
            userVisibleOnly: true,
            applicationServerKey: serverKey()
          }).then(function (subscription) {
            return post("/api/v1/me/devices", subscription.toJSON());
          }).then(function () { done("device-on"); });
        }).catch(failed);
      });
      off.addEventListener("click", function () {
        off.disabled = true;
        registration.pushManager.getSubscription().then(function (subscription) {
          if (!subscription) { return done("device-off"); }
          var endpoint = subscription.endpoint;
          return subscription.unsubscribe().then(function () {
            return post("/api/v1/me/devices/remove", { endpoint: endpoint });
          }).then(function () { done("device-off"); });
        }).catch(failed);
      });
    });
  }).catch(function () {
    say("This browser can't show notices from Trellis right now. Mail still works.");
  });
})();
