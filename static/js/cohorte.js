// Selection in the participants' table: a click on a photo selects the row; the action bar
// follows. Delegated on document so it keeps working after htmx swaps the table.
(function () {
  "use strict";

  function refresh(form) {
    const boxes = Array.from(form.querySelectorAll('tbody input[name="member"]'));
    const checked = boxes.filter((b) => b.checked);
    const count = form.querySelector(".selected-count");
    if (count) {
      count.textContent = checked.length
        ? count.dataset.some.replace("%s", checked.length)
        : count.dataset.none;
    }
    form.querySelectorAll("[data-needs]").forEach((el) => { el.disabled = checked.length === 0; });
    const remove = form.querySelector("[data-remove]");
    if (remove) {
      remove.hidden = checked.length !== 1;
      if (checked.length === 1) {
        remove.href = form.dataset.removeUrl.replace("/participants/0/", "/participants/" + checked[0].value + "/");
      }
    }
    boxes.forEach((b) => b.closest("tr").classList.toggle("selected", b.checked));
    const all = form.querySelector("[data-select-all]");
    if (all) { all.checked = boxes.length > 0 && checked.length === boxes.length; }
  }

  document.addEventListener("click", (event) => {
    const toggle = event.target.closest("[data-toggle]");
    if (!toggle) { return; }
    const box = toggle.closest("tr").querySelector('input[name="member"]');
    box.checked = !box.checked;
    refresh(toggle.closest("form"));
  });

  document.addEventListener("change", (event) => {
    const form = event.target.closest("form.selection");
    if (!form) { return; }
    if (event.target.matches("[data-select-all]")) {
      form.querySelectorAll('tbody input[name="member"]').forEach((b) => { b.checked = event.target.checked; });
    }
    refresh(form);
  });

  // Keep the filter form's hidden sort/order in step with the URL after a header click.
  document.addEventListener("htmx:pushedIntoHistory", () => {
    const params = new URLSearchParams(window.location.search);
    document.querySelectorAll("form.filters, form.member-filters").forEach((form) => {
      ["sort", "order"].forEach((name) => {
        const input = form.querySelector('input[name="' + name + '"]');
        if (input) { input.value = params.get(name) || ""; }
      });
    });
  });

  // The members list: « select all » for boxes tied to the bulk form by their form= attribute.
  document.addEventListener("change", (event) => {
    if (!event.target.matches('[data-select-all][form]')) { return; }
    const formId = event.target.getAttribute("form");
    document.querySelectorAll('tbody input[name="member"][form="' + formId + '"]').forEach((b) => {
      b.checked = event.target.checked;
    });
  });

  // Dialogs (« Sauvegarder le filtre de recherche »): the saved query is the list's current one.
  document.addEventListener("click", (event) => {
    const opener = event.target.closest("[data-open-dialog]");
    if (opener) {
      const dialog = document.getElementById(opener.dataset.openDialog);
      const current = document.querySelector("[data-current-query]");
      const saved = dialog.querySelector("[data-saved-query]");
      if (current && saved) { saved.value = current.value; }
      dialog.showModal();
      return;
    }
    const closer = event.target.closest("[data-close-dialog]");
    if (closer) { closer.closest("dialog").close(); }
  });
})();
