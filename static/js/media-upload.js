/* Resumable uploads with a progress bar. The form posts the whole file when this script
   does not run. With it: chunks to the app (local storage) or parts straight to S3
   (presigned multipart); a dropped connection is retried from the last complete chunk or
   part, and a reloaded page picks the same upload up again (remembered per file). */
(function () {
  "use strict";

  var form = document.querySelector("form[data-uploader]");
  if (!form || !window.fetch || !window.FormData || !window.Blob || !Blob.prototype.slice) return;

  var bar = document.querySelector("[data-upload-progress]");
  var statusLine = document.querySelector("[data-upload-status]");
  var csrf = form.querySelector("input[name=csrf_token]");
  var base = form.getAttribute("data-uploads-url");
  var text = {
    sending: form.getAttribute("data-text-sending"),
    retrying: form.getAttribute("data-text-retrying"),
    checking: form.getAttribute("data-text-checking"),
    failed: form.getAttribute("data-text-failed")
  };

  function headers(extra) {
    var h = { "Accept": "application/json", "X-CSRFToken": csrf ? csrf.value : "" };
    for (var k in extra || {}) h[k] = extra[k];
    return h;
  }

  function show(done, total, message) {
    if (bar) {
      bar.hidden = false;
      bar.max = total;
      bar.value = done;
    }
    if (statusLine && message) {
      statusLine.textContent = message.replace("{percent}", String(Math.floor(done * 100 / Math.max(total, 1))));
    }
  }

  function problem(resp) {
    return resp.json().then(function (body) {
      var msg = (body.errors && body.errors.length ? body.errors[0].message : "") || body.detail || body.title;
      var err = new Error(msg || text.failed);
      err.fatal = resp.status !== 409 && resp.status < 500;
      err.status = resp.status;
      throw err;
    }, function () {
      var err = new Error(text.failed);
      err.fatal = resp.status < 500 && resp.status !== 409;
      throw err;
    });
  }

  function json(url, options) {
    options.credentials = "same-origin";
    return fetch(url, options).then(function (resp) {
      if (!resp.ok) return problem(resp);
      return resp.status === 204 ? null : resp.json();
    });
  }

  function send(method, url, blob, extraHeaders, onProgress) {
    return new Promise(function (resolve, reject) {
      var xhr = new XMLHttpRequest();
      xhr.open(method, url);
      for (var k in extraHeaders || {}) xhr.setRequestHeader(k, extraHeaders[k]);
      xhr.upload.onprogress = function (e) { if (e.lengthComputable) onProgress(e.loaded); };
      xhr.onload = function () {
        if (xhr.status >= 200 && xhr.status < 300) resolve(xhr);
        else {
          var err = new Error(text.failed);
          err.status = xhr.status;
          err.fatal = xhr.status >= 400 && xhr.status < 500 && xhr.status !== 409 && xhr.status !== 408;
          try {
            var body = JSON.parse(xhr.responseText);
            err.message = (body.errors && body.errors.length ? body.errors[0].message : "") || body.detail || err.message;
          } catch (e) { /* S3 answers in XML */ }
          reject(err);
        }
      };
      xhr.onerror = xhr.ontimeout = function () { reject(new Error(text.retrying)); };
      xhr.send(blob);
    });
  }

  function wait(ms) { return new Promise(function (r) { setTimeout(r, ms); }); }

  // Retry an operation after network errors, backing off up to 30 s; give up on refusals.
  function retrying(op) {
    var delay = 1000;
    function attempt() {
      return op().catch(function (err) {
        if (err.fatal) throw err;
        show(bar ? bar.value : 0, bar ? bar.max : 1, text.retrying);
        return wait(delay).then(function () { delay = Math.min(delay * 2, 30000); return attempt(); });
      });
    }
    return attempt();
  }

  function fileKey(file) { return "lms-upload:" + [file.name, file.size, file.lastModified].join("|"); }

  function start(file) {
    var remembered = window.localStorage && localStorage.getItem(fileKey(file));
    var fresh = function () {
      return json(base, {
        method: "POST",
        headers: headers({ "Content-Type": "application/json" }),
        body: JSON.stringify({
          kind: form.elements.kind.value, title: form.elements.title.value,
          filename: file.name, size: file.size
        })
      }).then(function (state) {
        if (window.localStorage) localStorage.setItem(fileKey(file), state.id);
        return state;
      });
    };
    if (!remembered) return fresh();
    return json(base + "/" + remembered, { method: "GET", headers: headers() }).then(function (state) {
      return state.status === "open" ? state : fresh();
    }, fresh);
  }

  function stateOf(id) {
    return json(base + "/" + id, { method: "GET", headers: headers() });
  }

  function sendChunks(file, state) {
    var offset = state.offset;
    function next() {
      if (offset >= file.size) return Promise.resolve();
      var at = offset;
      return retrying(function () {
        var end = Math.min(at + state.chunk_size, file.size);
        return send("PUT", base + "/" + state.id + "/chunk?offset=" + at, file.slice(at, end),
                    headers({ "Content-Type": "application/octet-stream" }),
                    function (loaded) { show(at + loaded, file.size, text.sending); })
          .then(function (xhr) { offset = JSON.parse(xhr.responseText).offset; },
                function (err) {
                  // after a drop the server may hold more or less than we think: ask it
                  return stateOf(state.id).then(function (s) { offset = s.offset; at = s.offset; throw err; },
                                                function () { throw err; });
                });
      }).then(function () { show(offset, file.size, text.sending); return next(); });
    }
    return next();
  }

  function sendParts(file, state) {
    var size = state.chunk_size;
    var count = Math.ceil(file.size / size);
    var have = {};
    var done = 0;
    (state.parts || []).forEach(function (p) { have[p.part_number] = true; done += p.size; });
    var missing = [];
    for (var n = 1; n <= count; n++) if (!have[n]) missing.push(n);
    show(done, file.size, text.sending);
    function next() {
      if (!missing.length) return Promise.resolve();
      var batch = missing.splice(0, 20);
      return retrying(function () {
        return json(base + "/" + state.id + "/parts", {
          method: "POST", headers: headers({ "Content-Type": "application/json" }),
          body: JSON.stringify({ part_numbers: batch })
        });
      }).then(function (reply) {
        return reply.parts.reduce(function (chain, part) {
          return chain.then(function () {
            var from = (part.part_number - 1) * size;
            var blob = file.slice(from, Math.min(from + size, file.size));
            return retrying(function () {
              return send("PUT", part.url, blob, {}, function (loaded) {
                show(done + loaded, file.size, text.sending);
              });
            }).then(function () { done += blob.size; show(done, file.size, text.sending); });
          });
        }, Promise.resolve());
      }).then(next);
    }
    return next();
  }

  form.addEventListener("submit", function (event) {
    var input = form.elements.file;
    if (!input.files || !input.files.length) return; // the server explains what is missing
    event.preventDefault();
    var file = input.files[0];
    var button = form.querySelector("[type=submit]");
    if (button) button.disabled = true;
    show(0, file.size, text.sending);
    start(file)
      .then(function (state) {
        return (state.backend === "s3" ? sendParts(file, state) : sendChunks(file, state))
          .then(function () {
            show(file.size, file.size, text.checking);
            return retrying(function () {
              return json(base + "/" + state.id + "/complete", { method: "POST", headers: headers() });
            });
          });
      })
      .then(function (result) {
        if (window.localStorage) localStorage.removeItem(fileKey(file));
        window.location.assign(result.url);
      })
      .catch(function (err) {
        if (window.localStorage && err.fatal) localStorage.removeItem(fileKey(file));
        if (statusLine) {
          statusLine.textContent = err.message || text.failed;
          statusLine.classList.add("error");
        }
        if (button) button.disabled = false;
      });
  });
})();
