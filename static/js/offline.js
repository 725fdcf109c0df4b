/* Offline study, as a progressive enhancement (every page and form works without it):
   - registers the service worker (/sw.js, scope "/"), which answers from saved courses;
   - on the Offline page, saves a course into Cache Storage ("lms-course-CODE") from the
     server's manifest, shows what is saved and how big it is, and removes it;
   - while offline, "Mark as done" and quiz answers are queued in IndexedDB, each with a
     UUID, and sent in one batch to /offline/sync when the browser is back online (with a
     fresh CSRF token, and only under the account that made them). The server applies each
     operation once; a replayed one is answered "duplicate" and changes nothing. */
(function () {
  "use strict";
  var COURSE_PREFIX = "lms-course-";
  var script = document.currentScript;
  var root = script ? script.src.replace(/static\/js\/offline\.js.*$/, "") : location.origin + "/";
  var base = new URL(root).pathname;

  function mediaKey(href) {
    var url = new URL(href, location.href);
    var m = url.pathname.match(/^(.*\/media\/files\/[^/]+\/)[^/]+\/(.+)$/);
    return m ? url.origin + m[1] + "offline/" + m[2] + url.search : url.href;
  }

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (all, name) {
      return values[name] !== undefined ? values[name] : all;
    });
  }

  function formatBytes(n) {
    var lang = document.documentElement.lang || undefined;
    var mb = n >= 1e6;
    try {
      return new Intl.NumberFormat(lang, {
        style: "unit", unit: mb ? "megabyte" : "kilobyte", maximumFractionDigits: 1
      }).format(mb ? n / 1e6 : Math.max(1, Math.round(n / 1e3)));
    } catch (e) {
      return mb ? (n / 1e6).toFixed(1) + " MB" : Math.round(n / 1e3) + " kB";
    }
  }

  function uuid() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); });
    return h.slice(0, 4).join("") + "-" + h.slice(4, 6).join("") + "-" + h.slice(6, 8).join("") +
      "-" + h.slice(8, 10).join("") + "-" + h.slice(10).join("");
  }

  // ------------------------------------------------------------------ the queue (IndexedDB)

  var dbPromise = null;
  function openDb() {
    if (!dbPromise) {
      dbPromise = new Promise(function (resolve, reject) {
        var req = indexedDB.open("lms-offline", 1);
        req.onupgradeneeded = function () {
          req.result.createObjectStore("ops", { keyPath: "seq", autoIncrement: true });
        };
        req.onsuccess = function () { resolve(req.result); };
        req.onerror = function () { reject(req.error); };
      });
    }
    return dbPromise;
  }

  function withStore(mode, work) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var t = db.transaction("ops", mode);
        var out = work(t.objectStore("ops"));
        t.oncomplete = function () { resolve(out && "result" in out ? out.result : out); };
        t.onerror = function () { reject(t.error); };
        t.onabort = function () { reject(t.error); };
      });
    });
  }

  function queued() {
    return withStore("readonly", function (store) { return store.getAll(); });
  }

  function enqueue(op) {
    op.id = uuid();
    op.made_at = new Date().toISOString();
    return withStore("readwrite", function (store) {
      if (op.type === "quiz.answer") {
        // a newer save of the same attempt's form replaces the one still waiting
        store.openCursor().onsuccess = function (event) {
          var cursor = event.target.result;
          if (!cursor) { store.add(op); return; }
          var old = cursor.value;
          if (old.type === "quiz.answer" && old.attempt_id === op.attempt_id && old.user === op.user) {
            cursor.delete();
          }
          cursor.continue();
        };
        return null;
      }
      store.add(op);
      return null;
    }).then(showQueue);
  }

  function forget(seqs) {
    return withStore("readwrite", function (store) {
      seqs.forEach(function (seq) { store.delete(seq); });
      return null;
    });
  }

  function notice(lines) {
    var box = document.querySelector("[data-offline-notice]");
    if (!box) {
      box = document.createElement("div");
      box.className = "flashes";
      box.setAttribute("role", "status");
      box.setAttribute("data-offline-notice", "");
      var main = document.getElementById("main") || document.body;
      main.insertBefore(box, main.firstChild);
    }
    box.textContent = "";
    lines.forEach(function (line) {
      var p = document.createElement("p");
      p.className = "flash";
      p.textContent = line;
      box.appendChild(p);
    });
  }

  var flushing = false;
  function flush() {
    if (flushing || !navigator.onLine || !window.indexedDB) { return Promise.resolve(); }
    flushing = true;
    return queued().then(function (ops) {
      if (!ops.length) { return null; }
      return fetch(root + "offline/session", { credentials: "same-origin", cache: "no-store" })
        .then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r.json(); })
        .then(function (session) {
          var mine = ops.filter(function (op) { return String(op.user) === String(session.user_id); });
          if (!mine.length) { return null; }
          mine = mine.slice(0, 100);
          var body = {
            operations: mine.map(function (op) {
              var out = {};
              Object.keys(op).forEach(function (k) { if (k !== "seq" && k !== "user") { out[k] = op[k]; } });
              return out;
            })
          };
          return fetch(root + "offline/sync", {
            method: "POST",
            credentials: "same-origin",
            headers: { "Content-Type": "application/json", "X-CSRFToken": session.csrf_token },
            body: JSON.stringify(body)
          }).then(function (r) {
            if (r.status === 400) {
              // malformed: it can never be accepted; keep the rest of the queue moving
              console.warn("offline sync: batch refused", r.status);
              return forget(mine.map(function (op) { return op.seq; }));
            }
            if (!r.ok) { throw new Error(String(r.status)); }
            return r.json().then(function (answer) {
              var bySeq = {};
              mine.forEach(function (op) { bySeq[op.id] = op.seq; });
              var done = [];
              var rejected = [];
              answer.results.forEach(function (res) {
                if (bySeq[res.id] !== undefined) { done.push(bySeq[res.id]); }
                if (res.status === "rejected") { rejected.push(res.reason); }
              });
              return forget(done).then(function () {
                var lines = [session.messages.synced];
                if (rejected.length) { lines = lines.concat([session.messages.rejected], rejected); }
                notice(lines);
                if (mine.length < ops.length) { flushing = false; return flush(); }
                return null;
              });
            });
          });
        });
    }).catch(function () { /* still offline or signed out: the queue waits */ })
      .then(function () { flushing = false; showQueue(); });
  }

  // ------------------------------------------------------------------ forms, while offline

  function formFields(form) {
    var pairs = [];
    new FormData(form).forEach(function (value, name) {
      if (typeof value === "string" && name !== "csrf_token" && name !== "action") {
        pairs.push([name, value]);
      }
    });
    return pairs;
  }

  function say(form, text) {
    var status = form.querySelector("[data-offline-status]");
    if (!status) {
      status = document.createElement("p");
      status.className = "notice";
      status.setAttribute("role", "status");
      status.setAttribute("data-offline-status", "");
      form.insertBefore(status, form.firstChild);
    }
    status.textContent = text;
  }

  function queueForm(form, submitter) {
    var kind = form.getAttribute("data-offline-op");
    var op = { type: kind, user: form.getAttribute("data-user") };
    if (kind === "lesson.complete") {
      op.lesson_id = parseInt(form.getAttribute("data-lesson-id"), 10);
    } else {
      op.attempt_id = parseInt(form.getAttribute("data-attempt-id"), 10);
      op.form = formFields(form);
      if (submitter && submitter.value === "submit") { op.type = "quiz.submit"; }
    }
    return enqueue(op).then(function () { say(form, form.getAttribute("data-offline-queued")); });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute || !form.hasAttribute("data-offline-op") || navigator.onLine) { return; }
    event.preventDefault();
    queueForm(form, event.submitter).then(function () {
      if (form.getAttribute("data-offline-op") === "lesson.complete") {
        Array.prototype.forEach.call(form.querySelectorAll("button"), function (b) { b.hidden = true; });
      }
    });
  });

  var answerTimer = null;
  function answerChanged(event) {
    var form = event.target.form;
    if (!form || form.getAttribute("data-offline-op") !== "quiz.answer" || navigator.onLine) { return; }
    if (event.target.type === "file") { return; }
    window.clearTimeout(answerTimer);
    answerTimer = window.setTimeout(function () { queueForm(form, null); }, event.type === "input" ? 800 : 0);
  }
  document.addEventListener("change", answerChanged);
  document.addEventListener("input", answerChanged);

  window.addEventListener("online", function () { flush(); });

  // ------------------------------------------------------------------ saving courses

  var SUBRESOURCE = /(?:src|href|poster|data-hls-worker)="([^"]+)"/g;

  function subresources(html) {
    var out = [];
    var m;
    while ((m = SUBRESOURCE.exec(html)) !== null) {
      var url = m[1].replace(/&amp;/g, "&");
      var path = new URL(url, location.href);
      if (path.origin !== location.origin) { continue; }
      if (path.pathname.indexOf(base + "static/") === 0) { out.push(path.href); }
      if (/\/media\/files\/[^/]+\/[^/]+\/(poster\.jpg|subtitles\/[^/]+\.vtt)$/.test(path.pathname)) {
        out.push(path.href);
      }
    }
    return out;
  }

  function metaKey(code) { return root + "offline/saved/" + encodeURIComponent(code) + ".json"; }

  function saveCourse(row, onProgress) {
    var code = row.getAttribute("data-offline-course");
    var name = COURSE_PREFIX + code;
    return fetch(row.getAttribute("data-manifest"), { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r.json(); })
      .then(function (manifest) {
        return caches.delete(name).then(function () { return caches.open(name); }).then(function (cache) {
          // pages one after the other (each is a full page render on the server), files four
          // at a time
          var pages = manifest.entries.filter(function (e) { return e.kind === "page"; })
            .map(function (e) { return e.url; });
          pages.push(manifest.offline_page);
          var files = manifest.entries.filter(function (e) { return e.kind !== "page"; })
            .map(function (e) { return e.url; });
          var seen = {};
          var total = 0;
          var done = 0;
          function store(url) {
            var abs = new URL(url, location.href).href;
            var key = abs.indexOf("/media/files/") !== -1 ? mediaKey(abs) : abs;
            if (seen[key]) { return Promise.resolve(); }
            seen[key] = true;
            return fetch(abs, { credentials: "same-origin" }).then(function (response) {
              if (!response.ok) { throw new Error(abs + " " + response.status); }
              var html = (response.headers.get("Content-Type") || "").indexOf("text/html") === 0;
              return response.clone().blob().then(function (blob) {
                total += blob.size;
                done += 1;
                onProgress(done, Object.keys(seen).length);
                return cache.put(key, response).then(function () {
                  if (!html) { return null; }
                  return blob.text().then(function (text) { return run(subresources(text)); });
                });
              });
            });
          }
          function run(urls, parallel) {
            var queue = urls.slice();
            var workers = [];
            function worker() {
              if (!queue.length) { return Promise.resolve(); }
              return store(queue.shift()).then(worker);
            }
            for (var i = 0; i < (parallel || 4); i++) { workers.push(worker()); }
            return Promise.all(workers);
          }
          var playlists = manifest.playlists.map(function (p) {
            total += new Blob([p.body]).size;
            return cache.put(mediaKey(new URL(p.url, location.href).href), new Response(p.body, {
              headers: { "Content-Type": "application/vnd.apple.mpegurl" }
            }));
          });
          return Promise.all(playlists).then(function () { return run(pages, 1); })
            .then(function () { return run(files, 4); }).then(function () {
            var meta = { code: code, title: manifest.title, bytes: total, files: done,
                         saved_at: new Date().toISOString() };
            return cache.put(metaKey(code), new Response(JSON.stringify(meta), {
              headers: { "Content-Type": "application/json" }
            })).then(function () { return meta; });
          });
        });
      })
      .catch(function (error) {
        return caches.delete(name).then(function () { throw error; });
      });
  }

  function savedMeta(code) {
    return caches.open(COURSE_PREFIX + code).then(function (cache) {
      return cache.match(metaKey(code));
    }).then(function (r) { return r ? r.json() : null; });
  }

  function showQueue() {
    var p = document.querySelector("[data-offline-queue]");
    if (!p || !window.indexedDB) { return; }
    queued().then(function (ops) {
      if (ops.length) { p.textContent = fill(p.getAttribute("data-template"), { count: ops.length }); }
    });
  }

  function offlinePage() {
    var table = document.querySelector("[data-offline-list]");
    showQueue();
    if (!table) { return; }
    if (!window.caches || !("serviceWorker" in navigator)) {
      var note = document.querySelector("[data-offline-unsupported]");
      if (note) { note.hidden = false; }
      return;
    }
    var t = table.dataset;
    function state(row, meta) {
      var cell = row.querySelector("[data-offline-state]");
      var remove = row.querySelector("[data-offline-remove]");
      if (meta) {
        cell.textContent = fill(t.saved, {
          size: formatBytes(meta.bytes),
          date: new Date(meta.saved_at).toLocaleString(document.documentElement.lang || undefined)
        });
      } else {
        cell.textContent = t.notSaved;
      }
      row.setAttribute("data-saved", meta ? "yes" : "no");
      if (remove) { remove.hidden = !meta; }
    }
    var known = {};
    Array.prototype.forEach.call(table.querySelectorAll("[data-offline-course]"), function (row) {
      var code = row.getAttribute("data-offline-course");
      known[code] = true;
      var save = row.querySelector("[data-offline-save]");
      var remove = row.querySelector("[data-offline-remove]");
      save.hidden = false;
      savedMeta(code).then(function (meta) { state(row, meta); });
      save.addEventListener("click", function () {
        save.disabled = true;
        var cell = row.querySelector("[data-offline-state]");
        saveCourse(row, function (done, total) {
          cell.textContent = fill(t.saving, { done: done, total: total });
        }).then(function (meta) { state(row, meta); }, function () { cell.textContent = t.failed; })
          .then(function () { save.disabled = false; });
      });
      remove.addEventListener("click", function () {
        caches.delete(COURSE_PREFIX + code).then(function () {
          state(row, null);
          row.querySelector("[data-offline-state]").textContent = t.removed;
        });
      });
    });
    // courses saved earlier but no longer in the list (for instance after leaving them)
    caches.keys().then(function (names) {
      names.forEach(function (name) {
        if (name.indexOf(COURSE_PREFIX) !== 0) { return; }
        var code = name.slice(COURSE_PREFIX.length);
        if (known[code]) { return; }
        savedMeta(code).then(function (meta) {
          var row = document.createElement("tr");
          row.setAttribute("data-offline-course", code);
          var th = document.createElement("th");
          th.scope = "row";
          th.textContent = meta ? meta.title : code;
          var size = document.createElement("td");
          var cell = document.createElement("td");
          cell.setAttribute("data-offline-state", "");
          var actions = document.createElement("td");
          var remove = document.createElement("button");
          remove.type = "button";
          remove.className = "button small secondary";
          remove.setAttribute("data-offline-remove", "");
          remove.textContent = t.removeLabel;
          remove.addEventListener("click", function () {
            caches.delete(name).then(function () { row.remove(); });
          });
          actions.appendChild(remove);
          [th, size, cell, actions].forEach(function (c) { row.appendChild(c); });
          table.tBodies[0].appendChild(row);
          state(row, meta);
        });
      });
    });
  }

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register(root + "sw.js", { scope: base }).catch(function () {});
  }
  offlinePage();
  flush();
})();
