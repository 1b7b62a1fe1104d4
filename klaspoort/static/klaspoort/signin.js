// Pupils' sign-in: small improvements over the plain forms, which work without this file.
// 1. The pincode keypad fills the field here instead of a round trip per tap.
// 2. "Scan your card": the browser's own BarcodeDetector reads a sign-in card's QR code.
(function () {
  "use strict";

  function keypad(form) {
    var field = form.querySelector("input[name=code]");
    if (!field) { return; }
    form.querySelectorAll(".kid-key").forEach(function (button) {
      button.addEventListener("click", function (event) {
        event.preventDefault();
        if (button.value === "back") {
          field.value = field.value.slice(0, -1);
        } else if (field.value.length < 5) {
          field.value += button.value;
        }
        if (field.value.length === 5) {
          form.requestSubmit(form.querySelector(".kid-ok"));
        } else {
          field.focus();
        }
      });
    });
  }

  function scanner(box) {
    if (!("BarcodeDetector" in window) || !navigator.mediaDevices) { return; }
    var start = box.querySelector("[data-scan-start]");
    var view = box.querySelector("[data-scan-view]");
    var video = box.querySelector("[data-scan-video]");
    var status = box.querySelector("[data-scan-status]");
    var prefix = start.dataset.scanPrefix;
    var stream = null;
    var running = false;
    box.hidden = false;

    function stop() {
      running = false;
      if (stream) { stream.getTracks().forEach(function (t) { t.stop(); }); }
      stream = null;
      view.hidden = true;
      start.hidden = false;
      start.focus();
    }

    start.addEventListener("click", function () {
      var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
      navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } })
        .then(function (s) {
          stream = s;
          video.srcObject = s;
          video.play();
          view.hidden = false;
          start.hidden = true;
          running = true;
          (function look() {
            if (!running) { return; }
            detector.detect(video).then(function (codes) {
              // Only our own card addresses, opened on this site (never a foreign link).
              var hit = codes.map(function (c) {
                try { return new URL(c.rawValue).pathname; } catch (e) { return ""; }
              }).filter(function (path) { return path.indexOf(prefix) === 0; })[0];
              if (hit) {
                running = false;
                window.location.assign(hit);
              } else {
                window.setTimeout(look, 250);
              }
            }).catch(function () { window.setTimeout(look, 500); });
          })();
        })
        .catch(function () {
          status.textContent = start.dataset.noCamera || status.textContent;
          view.hidden = false;
        });
    });
    box.querySelector("[data-scan-stop]").addEventListener("click", stop);
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form.kid-secret[data-method=pincode]").forEach(keypad);
    document.querySelectorAll("[data-scan]").forEach(scanner);
  });
})();
