// jaryo's one script. Every page works without it; it adds Enter-to-save in the capture box,
// local times, a confirmation before deleting, keyboard shortcuts, live draft badges, and
// Ask's streamed answers.
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

  // Ask: the answer streams in as it is written (server-sent events read from a fetch), can
  // be stopped, and becomes the server's sanitised HTML with citations linked when done.
  // Without this the form posts and the page comes back with the whole answer.
  const askForm = document.getElementById("ask-form");
  if (askForm && window.fetch && window.AbortController && window.TextDecoder) {
    const result = document.getElementById("ask-result");
    const answer = document.getElementById("answer");
    const sources = document.getElementById("sources");
    const status = document.getElementById("ask-status");
    const stop = document.getElementById("ask-stop");
    const submit = document.getElementById("ask-submit");
    let running = null;

    const finish = (message) => {
      running = null;
      stop.hidden = true;
      submit.disabled = false;
      status.textContent = message || "";
      answer.classList.remove("streaming");
    };
    const show = (name, data) => {
      if (name === "sources") {
        sources.innerHTML = data.html; // rendered and escaped by the server
      } else if (name === "delta") {
        answer.textContent += data.text;
      } else if (name === "retract") {
        answer.textContent = "";
      } else if (name === "done") {
        answer.innerHTML = data.html; // sanitised Markdown from the server
        finish("");
      } else if (name === "nothing_found" || name === "failed") {
        answer.textContent = "";
        const line = document.createElement("p");
        line.className = name === "failed" ? "error" : "nothing";
        line.textContent = data.message;
        answer.appendChild(line);
        finish("");
      }
    };

    stop.addEventListener("click", () => {
      if (running) running.abort();
    });
    askForm.addEventListener("submit", async (event) => {
      if (askForm.question.value.trim() === "") return;
      event.preventDefault();
      if (running) running.abort();
      const controller = new AbortController();
      running = controller;
      const old = document.getElementById("ask-error");
      if (old) old.remove();
      result.hidden = false;
      answer.textContent = "";
      answer.classList.add("streaming");
      sources.textContent = "";
      stop.hidden = false;
      submit.disabled = true;
      status.textContent = askForm.dataset.answering;
      try {
        const response = await fetch(askForm.dataset.stream, {
          method: "POST",
          body: new URLSearchParams(new FormData(askForm)),
          credentials: "same-origin",
          signal: controller.signal,
        });
        if (!response.ok || !response.body) throw new Error(String(response.status));
        const reader = response.body.getReader();
        const decoder = new TextDecoder();
        let buffer = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += decoder.decode(value, { stream: true });
          let end;
          while ((end = buffer.indexOf("\n\n")) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            let name = "message";
            let data = "";
            for (const line of block.split("\n")) {
              if (line.startsWith("event:")) name = line.slice(6).trim();
              else if (line.startsWith("data:")) data += line.slice(5).trimStart();
            }
            if (data) show(name, JSON.parse(data));
          }
        }
        if (running === controller) finish("");
      } catch (_) {
        // A newer question may have replaced this one; only the current one says how it ended.
        if (running === controller) {
          finish(controller.signal.aborted ? askForm.dataset.stopped : askForm.dataset.failed);
        }
      }
    });
  }
})();

// Files on the Library page: picked or dropped, each goes up on its own request with its own
// progress bar (without the script, the form posts them all at once).
(function () {
  const form = document.querySelector("form[data-upload]");
  if (!form) {
    return;
  }
  const input = form.querySelector("input[type=file]");
  const list = form.querySelector(".upload-progress");
  const csrf = form.querySelector("input[name=csrf]").value;
  function send(file) {
    const item = document.createElement("li");
    const label = document.createElement("span");
    label.textContent = file.name;
    const bar = document.createElement("progress");
    bar.max = 100;
    bar.value = 0;
    const outcome = document.createElement("span");
    item.append(label, bar, outcome);
    list.append(item);
    const data = new FormData();
    data.append("csrf", csrf);
    data.append("file", file, file.name);
    const request = new XMLHttpRequest();
    request.open("POST", form.action);
    request.setRequestHeader("Accept", "application/json");
    request.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) {
        bar.value = Math.round((event.loaded * 100) / event.total);
      }
    });
    request.addEventListener("load", () => {
      bar.value = 100;
      let result = null;
      try {
        result = JSON.parse(request.responseText).results[0];
      } catch (_) {
        result = null;
      }
      if (result && result.document) {
        const link = document.createElement("a");
        link.href = "/documents/" + result.document.id;
        link.textContent = result.duplicate ? form.dataset.duplicate : form.dataset.added;
        outcome.append(link);
      } else {
        outcome.className = "error";
        outcome.textContent = result && result.error ? result.error.message : form.dataset.failed;
      }
    });
    request.addEventListener("error", () => {
      outcome.className = "error";
      outcome.textContent = form.dataset.failed;
    });
    request.send(data);
  }
  function sendAll(files) {
    for (const file of files) {
      send(file);
    }
  }
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    sendAll(input.files);
    input.value = "";
  });
  for (const type of ["dragenter", "dragover"]) {
    form.addEventListener(type, (event) => {
      event.preventDefault();
      form.classList.add("dragging");
    });
  }
  for (const type of ["dragleave", "drop"]) {
    form.addEventListener(type, () => form.classList.remove("dragging"));
  }
  form.addEventListener("drop", (event) => {
    event.preventDefault();
    sendAll(event.dataTransfer.files);
  });
})();
