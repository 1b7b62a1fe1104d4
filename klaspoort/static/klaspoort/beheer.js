// Small behaviour on top of htmx for the Beheer pages. Every page works without it.
"use strict";

function uploadForm(event) {
  const target = event.target;
  return target instanceof Element ? target.closest("[data-upload]") : null;
}

// A visible progress bar while a roster file is sent; then "checking" while it is validated.
// The words come from the page (data-uploading, data-checking), translated on the server.
document.addEventListener("htmx:xhr:progress", (event) => {
  const form = uploadForm(event);
  if (!form || !event.detail.lengthComputable || !event.detail.total) return;
  const box = form.querySelector(".upload__progress");
  const bar = box.querySelector("progress");
  const label = box.querySelector("label");
  const percent = Math.round((event.detail.loaded / event.detail.total) * 100);
  box.hidden = false;
  bar.value = percent;
  bar.textContent = percent + "%";
  label.textContent = percent < 100 ? box.dataset.uploading + " " + percent + "%" : box.dataset.checking;
});

document.addEventListener("htmx:afterRequest", (event) => {
  const form = uploadForm(event);
  if (!form) return;
  form.querySelector(".upload__progress").hidden = true;
  if (event.detail.successful) form.reset();
});

// An upload's result: a file that waits for the coordinator's choice must not stay below the
// fold, so its warning is brought into view.
document.addEventListener("htmx:afterSwap", (event) => {
  if (!(event.target instanceof Element) || !event.target.matches(".upload-result")) return;
  const held = event.target.querySelector("#held");
  if (held) held.scrollIntoView({ behavior: "smooth", block: "start" });
});

// The group panel: mark the chosen group and bring its details into view and focus.
document.addEventListener("htmx:afterSwap", (event) => {
  if (!(event.target instanceof Element) || event.target.id !== "group-panel") return;
  const link = event.detail.requestConfig && event.detail.requestConfig.elt;
  document.querySelectorAll(".table--select tr.is-selected").forEach((row) => {
    row.classList.remove("is-selected");
    row.querySelector("a[aria-current]")?.removeAttribute("aria-current");
  });
  if (link instanceof Element && link.closest("tr")) {
    link.closest("tr").classList.add("is-selected");
    link.setAttribute("aria-current", "true");
  }
  const panel = document.getElementById("group-detail");
  if (panel) panel.focus({ preventScroll: true });
  if (panel && window.matchMedia("(max-width: 1023px)").matches) {
    panel.scrollIntoView({ behavior: "smooth", block: "start" });
  }
});

// Leerlingen: after sorting or paging the table is new; keep keyboard users where they were.
document.addEventListener("htmx:afterSwap", (event) => {
  if (!(event.target instanceof Element) || event.target.id !== "pupil-results") return;
  const trigger = event.detail.requestConfig && event.detail.requestConfig.elt;
  if (!(trigger instanceof Element)) return;
  if (trigger.matches(".sort-link")) {
    const column = trigger.getAttribute("data-column");
    event.target.querySelector(`.sort-link[data-column="${column}"]`)?.focus();
  } else if (trigger.closest("[data-pagination]")) {
    const table = event.target.querySelector(".table-scroll");
    table?.focus({ preventScroll: true });
    table?.scrollIntoView({ block: "start" });
  }
});

// The language switch in the footer returns to this page; keep its address current when htmx
// changes it (a search, a sort order, a chosen group), so the other language shows the same view.
function keepLanguageSwitchOnThisPage() {
  const next = document.querySelector(".language-switch input[name='next']");
  if (next) next.value = window.location.pathname + window.location.search;
}
document.addEventListener("htmx:pushedIntoHistory", keepLanguageSwitchOnThisPage);
document.addEventListener("htmx:historyRestore", keepLanguageSwitchOnThisPage);

// Irreversible actions with consequences to state (a paid seat, a group's pupils, a
// publisher's tiles) ask on the server (templates/_confirm.html): with htmx the question
// appears in place; bring it into view and give it focus so it is read out and answered first.
document.addEventListener("htmx:afterSwap", (event) => {
  if (!(event.target instanceof Element)) return;
  const question = event.target.querySelector("#confirm");
  if (!question) return;
  question.focus({ preventScroll: true });
  question.scrollIntoView({ behavior: "smooth", block: "nearest" });
});

// "Are you sure?" before a form or button marked with data-confirm does something that cannot
// be undone and has nothing to count (the question comes translated from the page). Here, not
// in an onsubmit attribute: the Content-Security-Policy allows no inline script.
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.dataset.confirm) return;
  if (!window.confirm(form.dataset.confirm)) event.preventDefault();
}, true);

document.addEventListener("click", (event) => {
  const button = event.target instanceof Element ? event.target.closest("button[data-confirm]") : null;
  if (button && !window.confirm(button.dataset.confirm)) event.preventDefault();
}, true);

// Printen: a button that opens the browser's print dialog. Without JavaScript it stays hidden
// and the link to the print version does the job.
document.querySelectorAll("button[data-print]").forEach((button) => {
  button.hidden = false;
  button.addEventListener("click", () => window.print());
});
