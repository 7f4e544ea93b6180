// Quick exit: sign out and leave Trellis at once for a neutral site. The
// sign-out goes as a beacon (it is sent even as the page goes away), and the
// page is replaced in the history so the back button does not return to it;
// pages are never cached (Cache-Control: no-store), so going back asks the
// server again and finds the person signed out. Pressing Escape three times
// does the same. Without JavaScript the form posts to /quick-exit, which
// signs out and redirects to the same neutral site.
(function () {
  "use strict";
  var form = document.querySelector("[data-quick-exit]");
  if (!form) { return; }
  var destination = form.getAttribute("data-leave-to") || "https://www.bbc.com/weather";
  var leaving = false;
  function leave(event) {
    if (event) { event.preventDefault(); }
    if (leaving) { return; }
    leaving = true;
    document.body.style.visibility = "hidden";
    var sent = false;
    try { sent = navigator.sendBeacon(form.action); } catch (e) { sent = false; }
    if (!sent) {
      // No beacon: the form itself signs out and redirects.
      form.submit();
      return;
    }
    try { window.history.replaceState(null, "", "/"); } catch (e) { /* ignore */ }
    window.location.replace(destination);
  }
  form.addEventListener("submit", leave);
  var presses = 0;
  var timer = null;
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") { return; }
    presses += 1;
    clearTimeout(timer);
    timer = setTimeout(function () { presses = 0; }, 1200);
    if (presses >= 3) { leave(); }
  });
}());
