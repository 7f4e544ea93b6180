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
