// Live progress for a task: an element with data-poll-url asks that same-origin JSON endpoint
// every data-poll-interval milliseconds (1000 by default) and shows what it answers:
//   {"state": "queued|running|done|failed", "progress": 0..1, "message": "...", "done_url": "..."}
// in its <progress> and its [data-poll-message] text. When the task is done it opens done_url
// (same origin only). Without this script the element's own text and links still say where
// to look.
(function () {
  "use strict";

  const STATES = ["queued", "running", "done", "failed"];
  const GIVE_UP_AFTER = 5; // failed requests in a row

  function sameOrigin(url) {
    try {
      return new URL(url, window.location.href).origin === window.location.origin;
    } catch (error) {
      return false;
    }
  }

  function show(box, task) {
    const state = STATES.includes(task.state) ? task.state : "running";
    box.dataset.state = state;
    const bar = box.querySelector("progress");
    if (bar) {
      if (typeof task.progress === "number" && isFinite(task.progress)) {
        const done = Math.min(1, Math.max(0, task.progress));
        bar.max = 1;
        bar.value = state === "done" ? 1 : done;
        bar.textContent = Math.round(bar.value * 100) + " %";
      } else if (state !== "done") {
        bar.removeAttribute("value"); // no figure: the bar says "working" without one
      }
    }
    const text = box.querySelector("[data-poll-message]");
    if (text && typeof task.message === "string" && task.message) text.textContent = task.message;
    return state;
  }

  function follow(box) {
    const url = box.dataset.pollUrl;
    if (!sameOrigin(url)) return;
    const interval = parseInt(box.dataset.pollInterval, 10) || 1000;
    let failures = 0;

    function lost() {
      const text = box.querySelector("[data-poll-message]");
      box.dataset.state = "lost";
      if (text) {
        text.textContent = box.dataset.pollLost ||
          "The portal stopped answering about this task. Reload the page to see how it is going.";
      }
    }

    function tick() {
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store" })
        .then((response) => {
          if (!response.ok) throw new Error("HTTP " + response.status);
          return response.json();
        })
        .then((task) => {
          failures = 0;
          const state = show(box, task);
          if (state === "done") {
            if (task.done_url && sameOrigin(task.done_url)) window.location.assign(task.done_url);
          } else if (state !== "failed") {
            window.setTimeout(tick, interval);
          }
        })
        .catch(() => {
          failures += 1;
          if (failures >= GIVE_UP_AFTER) lost();
          else window.setTimeout(tick, interval * failures);
        });
    }

    tick();
  }

  document.querySelectorAll("[data-poll-url]").forEach(follow);
})();
