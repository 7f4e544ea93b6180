// Trellis's service worker. It keeps only the static shell and a page for
// when the network is gone. It never stores a page someone is signed in
// to, nor anything they wrote: private writing must not outlive a session
// on a shared phone.
"use strict";
const CACHE = "trellis-shell-v1";
const PRECACHE = [
  "/offline",
  "/static/app.css",
  "/static/icon-192.png",
  "/static/icon-512.png",
];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(PRECACHE)));
  self.skipWaiting();
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys().then((keys) =>
      Promise.all(keys.filter((key) => key !== CACHE).map((key) => caches.delete(key)))
    ).then(() => self.clients.claim())
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") {
    return;
  }
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) {
    return;
  }
  if (request.mode === "navigate") {
    // pages always come from the network; offline, a calm page instead
    event.respondWith(fetch(request).catch(() => caches.match("/offline")));
    return;
  }
  if (PRECACHE.includes(url.pathname)) {
    event.respondWith(caches.match(request).then((hit) => hit || fetch(request)));
  }
});

// A notice from Trellis (web push). It says only that something is waiting;
// tapping it opens the page where it is, after signing in if need be.
self.addEventListener("push", (event) => {
  let notice = {};
  try {
    notice = event.data ? event.data.json() : {};
  } catch (err) {
    notice = {};
  }
  const title = typeof notice.title === "string" && notice.title
    ? notice.title
    : "Something is waiting for you in Trellis";
  event.waitUntil(
    self.registration.showNotification(title, {
      body: typeof notice.body === "string" ? notice.body : "",
      icon: "/static/icon-192.png",
      tag: typeof notice.tag === "string" ? notice.tag : "trellis",
      data: { url: typeof notice.url === "string" ? notice.url : "/" },
    })
  );
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const path = event.notification.data && event.notification.data.url;
  // only a path on this server: a notice never leads elsewhere
  const target = new URL(
    typeof path === "string" && path.startsWith("/") && !path.startsWith("//") ? path : "/",
    self.location.origin
  );
  event.waitUntil(self.clients.openWindow(target.href));
});
