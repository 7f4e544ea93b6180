// Lets Trellis be added to a phone's home screen (see /sw.js for what it keeps).
"use strict";
if ("serviceWorker" in navigator) {
  window.addEventListener("load", () => {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(() => {});
  });

  // Signing out on a device also turns its notices off, so a phone that is
  // shared or passed on stops showing them. Sign-out never waits on this for
  // more than two seconds. (Quick exit is separate and never waits at all.)
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || form.getAttribute("action") !== "/logout") {
      return;
    }
    event.preventDefault();
    let sent = false;
    const signOut = () => {
      if (!sent) {
        sent = true;
        form.submit();
      }
    };
    setTimeout(signOut, 2000);
    const csrf = form.querySelector("input[name=csrf]");
    navigator.serviceWorker.getRegistration("/")
      .then((registration) => (registration ? registration.pushManager.getSubscription() : null))
      .then((subscription) => {
        if (!subscription) {
          return null;
        }
        const endpoint = subscription.endpoint;
        return fetch("/api/v1/me/devices/remove", {
          method: "POST",
          credentials: "same-origin",
          headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf ? csrf.value : "" },
          body: JSON.stringify({ endpoint: endpoint }),
        }).catch(() => null).then(() => subscription.unsubscribe());
      })
      .catch(() => null)
      .then(signOut);
  });
}
