// « Rapport personnalisé »: the column chooser. Without this file the page still works:
// tick the columns, number them; with it, « Tout sélectionner » / « Tout désélectionner »,
// a search that narrows the list as one types, and « Monter » / « Descendre », which move
// the row and renumber every order box so that the server reads the same order.
(function () {
  "use strict";

  function fold(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }

  function setUp(chooser) {
    const body = chooser.querySelector("[data-columns]");
    const search = chooser.querySelector("[data-column-search]");
    const count = chooser.querySelector("[data-column-count]");
    if (!body) return;
    chooser.querySelectorAll("[data-column-tools], [data-column-hint], [data-move], [data-move-head]")
      .forEach(function (node) { node.hidden = false; });

    function rows() { return Array.from(body.querySelectorAll("tr[data-column]")); }
    function shown() { return rows().filter(function (row) { return !row.hidden; }); }

    function renumber() {
      rows().forEach(function (row, index) {
        row.querySelector("[data-order]").value = String(index + 1);
      });
    }

    function recount() {
      if (!count) return;
      const ticked = rows().filter(function (row) {
        return row.querySelector("input[type=checkbox]").checked;
      }).length;
      count.textContent = count.dataset.template.replace("N", String(ticked));
    }

    // the order the numbers say, then numbers 1…n: what the server would do
    rows().sort(function (a, b) {
      return Number(a.querySelector("[data-order]").value) - Number(b.querySelector("[data-order]").value);
    }).forEach(function (row) { body.appendChild(row); });
    renumber();
    recount();

    chooser.addEventListener("click", function (event) {
      const button = event.target.closest("button");
      if (!button) return;
      if (button.dataset.select) {
        const on = button.dataset.select === "all";
        shown().forEach(function (row) { row.querySelector("input[type=checkbox]").checked = on; });
        recount();
        return;
      }
      const row = button.closest("tr[data-column]");
      if (!row) return;
      if (button.hasAttribute("data-up")) {
        let before = row.previousElementSibling;
        while (before && before.hidden) before = before.previousElementSibling;
        if (before) body.insertBefore(row, before);
      } else if (button.hasAttribute("data-down")) {
        let after = row.nextElementSibling;
        while (after && after.hidden) after = after.nextElementSibling;
        if (after) body.insertBefore(row, after.nextElementSibling);
      } else {
        return;
      }
      renumber();
      button.focus();
    });

    chooser.addEventListener("change", function (event) {
      if (event.target.matches("input[type=checkbox]")) recount();
      if (event.target.matches("[data-order]")) {
        // a number typed by hand: the row goes where its number says
        rows().sort(function (a, b) {
          return Number(a.querySelector("[data-order]").value) - Number(b.querySelector("[data-order]").value);
        }).forEach(function (item) { body.appendChild(item); });
        renumber();
      }
    });

    if (search) {
      search.addEventListener("input", function () {
        const words = fold(search.value).split(/\s+/).filter(Boolean);
        rows().forEach(function (row) {
          const label = fold(row.dataset.label || "");
          row.hidden = !words.every(function (word) { return label.includes(word); });
        });
      });
      search.addEventListener("keydown", function (event) {
        if (event.key === "Enter") event.preventDefault(); // searching is not saving
      });
    }
  }

  function start() {
    document.querySelectorAll("#column-chooser").forEach(setUp);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
