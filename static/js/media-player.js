/* The media player: adaptive HLS (hls.js, else native HLS, else the MP4 <source>), a subtitle
   switcher, the data saver choice and resume from the last position. Without this script the
   <video> plays the MP4 fallback with native subtitle tracks. */
(function () {
  "use strict";

  function attachSource(video, url, workerPath) {
    if (!url) return "mp4";
    if (window.Hls && window.Hls.isSupported()) {
      var hls = new window.Hls({ capLevelToPlayerSize: true, startLevel: -1,
                                 workerPath: workerPath || null, enableWorker: !!workerPath });
      hls.on(window.Hls.Events.ERROR, function (_event, data) {
        if (data && data.fatal) {
          hls.destroy();
          video.removeAttribute("data-engine");
          video.load(); // back to the MP4 <source>
        }
      });
      hls.loadSource(url);
      hls.attachMedia(video);
      video.hls = hls;
      return "hls.js";
    }
    if (video.canPlayType("application/vnd.apple.mpegurl")) {
      video.src = url;
      return "native";
    }
    return "mp4";
  }

  function showTrack(video, tag) {
    var tracks = video.textTracks;
    for (var i = 0; i < tracks.length; i++) {
      tracks[i].mode = tag && tracks[i].language === tag ? "showing" : "disabled";
    }
  }

  function savePosition(box, video, useBeacon) {
    var url = box.getAttribute("data-position-url");
    if (!url || !isFinite(video.currentTime)) return;
    var body = new FormData();
    body.append("csrf_token", box.getAttribute("data-csrf") || "");
    body.append("seconds", String(Math.floor(video.currentTime * 10) / 10));
    if (useBeacon && navigator.sendBeacon) {
      navigator.sendBeacon(url, body);
      return;
    }
    fetch(url, { method: "POST", body: body, credentials: "same-origin",
                 headers: { "X-CSRFToken": box.getAttribute("data-csrf") || "" } })
      .catch(function () { /* offline: the next save catches up */ });
  }

  function setup(box) {
    var video = box.querySelector("video");
    if (!video) return;
    video.setAttribute("data-engine", attachSource(video, box.getAttribute("data-hls"),
                                                   box.getAttribute("data-hls-worker")));

    var start = parseFloat(box.getAttribute("data-start") || "0");
    if (start > 0) {
      var seek = function () {
        if (video.currentTime < 1) video.currentTime = start;
      };
      video.addEventListener("loadedmetadata", seek, { once: true });
    }

    var select = box.querySelector("[data-subtitle-select]");
    if (select) {
      select.closest("label").hidden = false;
      showTrack(video, select.value);
      select.addEventListener("change", function () { showTrack(video, select.value); });
      // tracks load lazily; apply the choice again once they exist
      video.textTracks.addEventListener("addtrack", function () { showTrack(video, select.value); });
    }

    var saver = box.querySelector("[data-saver-select]");
    if (saver) {
      var button = box.querySelector("[data-saver-submit]");
      if (button) button.hidden = true;
      saver.addEventListener("change", function () {
        var form = saver.form;
        var body = new FormData(form);
        fetch(form.action, { method: "POST", body: body, credentials: "same-origin",
                             headers: { "Accept": "application/json",
                                        "X-CSRFToken": body.get("csrf_token") || "" } })
          .then(function () { window.location.reload(); })
          .catch(function () { form.submit(); });
      });
    }

    var last = 0;
    video.addEventListener("timeupdate", function () {
      if (Math.abs(video.currentTime - last) >= 15) {
        last = video.currentTime;
        savePosition(box, video, false);
      }
    });
    video.addEventListener("pause", function () { savePosition(box, video, false); });
    window.addEventListener("pagehide", function () { savePosition(box, video, true); });
  }

  function init() {
    var boxes = document.querySelectorAll("[data-media-player]");
    for (var i = 0; i < boxes.length; i++) {
      if (!boxes[i].hasAttribute("data-ready")) {
        boxes[i].setAttribute("data-ready", "");
        setup(boxes[i]);
      }
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
