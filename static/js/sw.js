/* The service worker of offline study (registered by offline.js with the scope "/").
   Courses are saved by the Offline page into one Cache Storage cache per course
   ("lms-course-CODE"); this worker only answers from those caches:
   - pages: from the network, and from the saved copy when the network fails (a saved page
     that is fetched again is refreshed in its cache);
   - media files of saved courses (the 240p or audio-only HLS rendition, posters,
     subtitles, documents): from the cache first, since they do not change. Media URLs carry
     a signed token that differs from page to page, so they are stored under a key without
     it; the master playlist comes from the network when possible, else the saved one, which
     names only the saved rendition;
   - fingerprinted static files (/static/...?v=hash): from the cache first. */
"use strict";

var COURSE_PREFIX = "lms-course-";

self.addEventListener("install", function () { self.skipWaiting(); });
self.addEventListener("activate", function (event) { event.waitUntil(self.clients.claim()); });

function mediaKey(href) {
  var url = new URL(href);
  var m = url.pathname.match(/^(.*\/media\/files\/[^/]+\/)[^/]+\/(.+)$/);
  return m ? url.origin + m[1] + "offline/" + m[2] + url.search : href;
}

function lookup(key) {
  return caches.match(key, { ignoreVary: true });
}

function orNetworkError(hit) { return hit || Response.error(); }

function courseCacheHolding(href) {
  return caches.keys().then(function (names) {
    var ours = names.filter(function (n) { return n.indexOf(COURSE_PREFIX) === 0; });
    return ours.reduce(function (found, name) {
      return found.then(function (hit) {
        if (hit) { return hit; }
        return caches.open(name).then(function (cache) {
          return cache.match(href, { ignoreVary: true }).then(function (r) { return r ? cache : null; });
        });
      });
    }, Promise.resolve(null));
  });
}

function offlinePage(scope) {
  return lookup(scope + "offline").then(orNetworkError);
}

function page(request) {
  return fetch(request).then(function (response) {
    if (response.ok && response.type === "basic" && !response.redirected) {
      var copy = response.clone();
      courseCacheHolding(request.url).then(function (cache) {
        if (cache) { cache.put(request.url, copy); }
      });
    }
    return response;
  }).catch(function () {
    return lookup(request.url).then(function (hit) {
      if (hit) { return hit; }
      var bare = new URL(request.url);
      bare.search = "";
      return lookup(bare.href).then(function (other) {
        return other || offlinePage(self.registration.scope);
      });
    });
  });
}

function media(request) {
  var key = mediaKey(request.url);
  if (/\/hls\/master\.m3u8$/.test(new URL(request.url).pathname)) {
    return fetch(request).catch(function () { return lookup(key).then(orNetworkError); });
  }
  return lookup(key).then(function (hit) { return hit || fetch(request); });
}

function cacheFirst(request) {
  return lookup(request.url).then(function (hit) { return hit || fetch(request); });
}

function forgetCourses() {
  return caches.keys().then(function (names) {
    return Promise.all(names.filter(function (n) { return n.indexOf(COURSE_PREFIX) === 0; })
      .map(function (n) { return caches.delete(n); }));
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }
  if (request.method === "POST" && /\/logout$/.test(url.pathname)) {
    // signing out forgets the saved courses, so the next person on this device cannot read
    // them; the request itself goes on untouched (queued work stays in IndexedDB, and is
    // only ever sent under the account that made it)
    event.waitUntil(forgetCourses());
    return;
  }
  if (request.method !== "GET") { return; }
  if (url.pathname.indexOf("/media/files/") !== -1) {
    event.respondWith(media(request));
  } else if (request.mode === "navigate") {
    event.respondWith(page(request));
  } else if (url.pathname.indexOf("/static/") !== -1 && url.searchParams.has("v")) {
    event.respondWith(cacheFirst(request));
  }
});
