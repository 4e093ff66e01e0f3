// jaryo's one script. Every page works without it; it adds Enter-to-save in the capture box,
// local times, a confirmation before deleting, keyboard shortcuts, and live draft badges.
"use strict";

(function () {
  const lang = document.documentElement.lang || "ko";

  // Times are rendered in UTC on the server; show them in the reader's own zone.
  const format = new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeStyle: "short" });
  for (const el of document.querySelectorAll("time[datetime]")) {
    const when = new Date(el.getAttribute("datetime"));
    if (!Number.isNaN(when.getTime())) {
      el.title = el.textContent;
      el.textContent = format.format(when);
    }
  }

  // Enter saves the memo on a desktop keyboard; Shift+Enter adds a line. Not while an IME
  // (Korean input) is composing, and not on touch screens, where Enter means a new line.
  const touchScreen = window.matchMedia && window.matchMedia("(pointer: coarse)").matches;
  for (const box of document.querySelectorAll("textarea[data-enter-submits]")) {
    box.addEventListener("keydown", (event) => {
      if (event.key !== "Enter" || event.shiftKey || event.isComposing || event.keyCode === 229) {
        return;
      }
      if (touchScreen || box.value.trim() === "") {
        return;
      }
      event.preventDefault();
      box.form.requestSubmit();
    });
  }

  for (const form of document.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) {
        event.preventDefault();
      }
    });
  }

  // "/" focuses the search or capture box; "n" the capture box; on a document, "a" accepts
  // and "r" rejects (buttons carry data-key).
  document.addEventListener("keydown", (event) => {
    const target = event.target;
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (target.closest && target.closest("input, textarea, select, [contenteditable]")) return;
    if (event.key === "/" || event.key === "n") {
      const box = event.key === "n"
        ? document.getElementById("capture-text")
        : document.getElementById("q") || document.getElementById("capture-text");
      if (box) {
        event.preventDefault();
        box.focus();
      }
      return;
    }
    const button = document.querySelector(`button[data-key="${event.key}"]`);
    if (button) {
      event.preventDefault();
      button.click();
    }
  });

  // Live draft badges: while any shown draft is waiting or being made, ask the server every
  // second; a document page reloads itself when its draft arrives.
  const transient = new Set(["waiting", "retrying", "drafting"]);
  const badges = Array.from(document.querySelectorAll("[data-live-doc]"));
  const live = () => badges.filter((el) => transient.has(el.dataset.state));
  async function poll() {
    const watching = live();
    if (watching.length === 0) return;
    const ids = Array.from(new Set(watching.map((el) => el.dataset.liveDoc))).join(",");
    try {
      const response = await fetch(`/ui/live?ids=${ids}`, { credentials: "same-origin" });
      if (response.ok) {
        for (const item of await response.json()) {
          for (const el of watching.filter((b) => b.dataset.liveDoc === String(item.id))) {
            if (el.dataset.state === item.key) continue;
            if (el.hasAttribute("data-reload")) {
              window.location.reload();
              return;
            }
            el.dataset.state = item.key;
            el.textContent = item.label;
            el.className = `badge badge-${item.key}`;
          }
        }
      }
    } catch (_) {
      // The server is restarting or the network is gone; try again on the next tick.
    }
    window.setTimeout(poll, 1000);
  }
  if (live().length > 0) {
    window.setTimeout(poll, 1000);
  }
})();
