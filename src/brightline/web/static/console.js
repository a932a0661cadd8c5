// Brightline review console: reveal one item at a time, re-blur, keyboard shortcuts.
// Hand-written, no third-party code; loaded as a file so the CSP can forbid inline scripts.
"use strict";
(function () {
  const body = document.body;
  const csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  const reblurSeconds = Number(body.dataset.reblurSeconds || "5");
  const timers = new Map();

  function alertBox(message) {
    const box = document.getElementById("alert");
    if (!box) return;
    box.textContent = message;
    box.hidden = !message;
  }

  function reblur(tile) {
    const img = tile.querySelector("img.preview");
    const video = tile.querySelector("video");
    if (video) { video.pause(); video.removeAttribute("src"); video.load(); video.remove(); }
    if (img) {
      img.hidden = false;
      if (img.classList.contains("revealed")) {
        img.src = img.dataset.preview;
        img.classList.remove("revealed");
        img.classList.add("blurred");
        img.alt = "Blurred item " + tile.dataset.item;
      }
    }
    clearTimeout(timers.get(tile));
    timers.delete(tile);
  }

  function reblurAll(except) {
    document.querySelectorAll(".tile").forEach(function (tile) {
      if (tile !== except) reblur(tile);
    });
  }

  function scheduleReblur(tile) {
    clearTimeout(timers.get(tile));
    timers.set(tile, setTimeout(function () { reblur(tile); }, reblurSeconds * 1000));
  }

  function show(tile, answer) {
    reblurAll(tile);
    const img = tile.querySelector("img.preview");
    if (answer.video) {
      // Muted, blurred until the reviewer presses play; never autoplays.
      const video = document.createElement("video");
      video.muted = true;
      video.controls = true;
      video.playsInline = true;
      video.preload = "metadata";
      video.poster = img.dataset.preview;
      video.className = "blurred";
      video.src = answer.view_url;
      video.addEventListener("play", function () {
        video.muted = true;
        video.classList.remove("blurred");
        video.classList.add("revealed");
        scheduleReblur(tile);
      });
      video.addEventListener("volumechange", function () { video.muted = true; });
      img.hidden = true;
      img.parentNode.appendChild(video);
      return;
    }
    img.src = answer.view_url;
    img.classList.remove("blurred");
    img.classList.add("revealed");
    img.alt = "Revealed item " + tile.dataset.item;
    scheduleReblur(tile);
  }

  async function reveal(form) {
    const tile = form.closest(".tile");
    const response = await fetch(form.action, {
      method: "POST",
      headers: { "Accept": "application/json", "X-CSRF-Token": csrf },
      body: new FormData(form),
      credentials: "same-origin",
    });
    const answer = await response.json().catch(function () { return {}; });
    if (!response.ok) {
      alertBox(answer.detail || "The reveal was refused.");
      return;
    }
    const counter = document.getElementById("reveal-count");
    if (counter) counter.textContent = String(answer.reveals_today);
    alertBox(answer.break_prompt
      ? "You have revealed " + answer.reveals_today + " items today. Consider a short break."
      : "");
    show(tile, answer);
  }

  document.querySelectorAll("form.reveal-form").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      reveal(form);
    });
  });
  document.querySelectorAll(".tile").forEach(function (tile) {
    tile.addEventListener("pointerleave", function () { reblur(tile); });
    const img = tile.querySelector("img.preview.revealed");
    if (img) scheduleReblur(tile);  // revealed without JS help (form fallback): still re-blur
  });

  function pick(selector) {
    const input = document.querySelector(selector);
    if (input) { input.checked = true; input.focus(); }
  }

  document.addEventListener("keydown", function (event) {
    const typing = /^(INPUT|TEXTAREA|SELECT)$/.test(event.target.tagName) &&
      !(event.target.type === "radio" || event.target.type === "checkbox");
    const form = document.getElementById("decision-form");
    if (event.key === "Escape") { reblurAll(null); return; }
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && form) {
      event.preventDefault();
      form.requestSubmit();
      return;
    }
    if (typing || event.ctrlKey || event.metaKey || event.altKey) return;
    const classes = { "1": "A1", "2": "A2", "3": "B1", "4": "B2" };
    if (classes[event.key]) { pick('input[name="classification"][value="' + classes[event.key] + '"]'); return; }
    const kinds = { c: "confirm", x: "false_positive", e: "escalate", o: "second_opinion" };
    if (kinds[event.key]) {
      pick('input[name="kind"][value="' + kinds[event.key] + '"]');
      if (event.key === "e") { const reason = form && form.querySelector("textarea[name=reason]"); if (reason) reason.focus(); event.preventDefault(); }
      return;
    }
    if (event.key === "r") {
      // Only a job's items: elsewhere (a clearinghouse report's files) a reveal is a click.
      const next = document.querySelector(".items .tile img.preview.blurred");
      const form2 = next && next.closest(".tile").querySelector("form.reveal-form");
      if (form2) reveal(form2);
    }
  });
})();
