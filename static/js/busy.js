// Forms that call the API say at once that they are working: the button that sent the form
// is disabled, marked aria-busy and relabelled with its data-busy-label ("Buying…"), and
// a second submit of the same form is ignored. Without this script the forms work as before.
(function () {
  "use strict";

  function makeBusy(form, button) {
    form.dataset.busy = "true";
    if (button.name) {
      // A disabled button is not sent with the form: keep its name and value in it.
      const copy = document.createElement("input");
      copy.type = "hidden";
      copy.name = button.name;
      copy.value = button.value;
      copy.dataset.busyCopy = "";
      form.appendChild(copy);
    }
    button.dataset.idleLabel = button.textContent;
    button.textContent = button.dataset.busyLabel;
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    const status = document.createElement("span");
    status.className = "visually-hidden";
    status.setAttribute("role", "status");
    status.dataset.busyStatus = "";
    status.textContent = button.dataset.busyLabel;
    button.after(status);
  }

  function makeIdle(form) {
    delete form.dataset.busy;
    form.querySelectorAll("[data-busy-copy], [data-busy-status]").forEach((el) => el.remove());
    form.querySelectorAll("[data-busy-label][aria-busy]").forEach((button) => {
      button.textContent = button.dataset.idleLabel;
      button.disabled = false;
      button.removeAttribute("aria-busy");
    });
  }

  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (form.dataset.busy === "true") {
      event.preventDefault(); // already sent once: one click, one request
      return;
    }
    const submitter = event.submitter;
    const button = submitter && submitter.dataset.busyLabel !== undefined
      ? submitter
      : form.querySelector("button[data-busy-label]");
    if (button && !event.defaultPrevented) makeBusy(form, button);
  });

  // Coming back to the page through the history: its forms are usable again.
  window.addEventListener("pageshow", (event) => {
    if (event.persisted) document.querySelectorAll("form[data-busy]").forEach(makeIdle);
  });
})();
