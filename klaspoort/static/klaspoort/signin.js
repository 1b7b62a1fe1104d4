// Pupils' sign-in: small improvements over the plain forms, which work without this file.
// 1. The pincode keypad fills the field here instead of a round trip per tap.
// 2. "Scan your card": the browser's own BarcodeDetector reads a sign-in card's QR code.
// 3. Group and name tiles open with Space as well as Enter, like the buttons they look like.
// 4. A chosen picture fills its slot in place: focus stays where the child is and the slots,
//    a status region, are announced (a full page load would do neither).
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
        // Focus stays on the key: a keyboard user types the next digit from where they are.
        if (field.value.length === 5) {
          form.requestSubmit(form.querySelector(".kid-ok"));
        }
      });
    });
  }

  function spaceOpens(tile) {
    tile.addEventListener("keydown", function (event) {
      if (event.key === " " || event.key === "Spacebar") {
        event.preventDefault();  // no page scroll
        tile.click();
      }
    });
  }

  function pictures(form) {
    var slots = form.querySelector("[data-slots]");
    var picked = form.querySelector("input[name=picked]");
    if (!slots || !picked || !window.fetch || !window.DOMParser) { return; }
    form.querySelectorAll(".kid-picture").forEach(function (button) {
      button.addEventListener("click", function (event) {
        // The last picture is checked by the server with a normal submit (it signs in or says
        // "not your pictures"); the ones before it only fill a slot.
        if (slots.querySelectorAll(".kid-slot:not(.kid-slot--filled)").length <= 1) { return; }
        event.preventDefault();
        var data = new FormData(form);
        data.append("pick", button.value);
        window.fetch(form.action, { method: "POST", body: data, credentials: "same-origin" })
          .then(function (response) {
            if (!response.ok || response.redirected) { throw new Error("reload"); }
            return response.text();
          })
          .then(function (html) {
            var page = new DOMParser().parseFromString(html, "text/html");
            var newSlots = page.querySelector("[data-slots]");
            var newPicked = page.querySelector("input[name=picked]");
            if (!newSlots || !newPicked) { throw new Error("reload"); }
            picked.value = newPicked.value;
            slots.innerHTML = newSlots.innerHTML;
          })
          .catch(function () { form.requestSubmit(button); });
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
    document.querySelectorAll("a.kid-tile").forEach(spaceOpens);
    document.querySelectorAll("form.kid-secret[data-method=plaatjes]").forEach(pictures);
  });
})();
