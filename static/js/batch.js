// Follows a running batch: polls its state and updates the progress bar, the sentence
// under it and each number's state, then reloads once when the batch has ended (or is
// ready for review), so the page shows the final outcomes and links. Without JavaScript
// the page still works: reloading it shows the same.
(function () {
  "use strict";
  var article = document.querySelector("[data-batch-state-url]");
  if (!article) return;
  var url = article.getAttribute("data-batch-state-url");
  var labels = {
    queued: "Queued", working: "Working…", sent: "Sent, checking…", done: "Done", failed: "Failed",
    unknown: "Unknown → settling", not_started: "Not started", excluded: "Left out",
    proposed: "Checking…"
  };
  var badges = {
    done: "badge badge-ok", failed: "badge badge-bad", unknown: "badge badge-info",
    working: "badge badge-info", sent: "badge badge-info", excluded: "badge badge-warn"
  };
  var progress = article.querySelector("[data-testid=batch-progress]");
  var message = article.querySelector("[data-testid=batch-message]");

  function showItems(items) {
    Object.keys(items).forEach(function (msisdn) {
      var row = article.querySelector('tr[data-msisdn="' + msisdn + '"] [data-item-state]');
      if (!row || row.getAttribute("data-item-state") === items[msisdn]) return;
      var badge = document.createElement("span");
      badge.className = badges[items[msisdn]] || "badge";
      badge.textContent = labels[items[msisdn]] || items[msisdn];
      row.replaceChildren(badge);
      row.setAttribute("data-item-state", items[msisdn]);
    });
  }

  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (state) {
        if (!state) return setTimeout(poll, 5000);
        if (progress && state.progress !== null) {
          progress.max = 1;
          progress.value = state.progress;
        }
        if (message) message.textContent = state.message;
        showItems(state.items || {});
        if (["done", "failed", "review"].indexOf(state.state) >= 0) {
          window.location.reload();
          return;
        }
        setTimeout(poll, 1500);
      })
      .catch(function () { setTimeout(poll, 5000); });
  }
  setTimeout(poll, 1000);
})();
