// « Nouvelle campagne »: add a question or a step row, move a step up or down. Without
// JavaScript the page works with its blank rows and its « Ordre » column.
(function () {
  "use strict";
  function renumber(table) {
    table.querySelectorAll("tbody tr [name$='-ORDER']").forEach(function (input, i) { input.value = i + 1; });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-add-row]").forEach(function (button) {
      var prefix = button.getAttribute("data-add-row");
      var table = document.querySelector("table[data-rows='" + prefix + "']");
      var total = document.querySelector("input[name='" + prefix + "-TOTAL_FORMS']");
      var max = document.querySelector("input[name='" + prefix + "-MAX_NUM_FORMS']");
      if (!table || !total) return;
      button.hidden = false;
      button.addEventListener("click", function () {
        var count = parseInt(total.value, 10);
        if (max && count >= parseInt(max.value, 10)) return;
        var rows = table.querySelectorAll("tbody tr");
        var copy = rows[rows.length - 1].cloneNode(true);
        var pattern = new RegExp(prefix + "-\\d+-");
        copy.querySelectorAll("input, select, label").forEach(function (el) {
          ["name", "id", "for"].forEach(function (attr) {
            var value = el.getAttribute(attr);
            if (value) el.setAttribute(attr, value.replace(pattern, prefix + "-" + count + "-"));
          });
          if (el.type === "checkbox") el.checked = false;
          else if (el.tagName === "INPUT") el.value = "";
          else if (el.tagName === "SELECT") el.selectedIndex = 0;
        });
        table.querySelector("tbody").appendChild(copy);
        total.value = count + 1;
        renumber(table);
      });
    });
    document.querySelectorAll("[data-move]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        var row = button.closest("tr");
        var table = button.closest("table");
        if (button.getAttribute("data-move") === "-1" && row.previousElementSibling) {
          row.parentNode.insertBefore(row, row.previousElementSibling);
        } else if (button.getAttribute("data-move") === "1" && row.nextElementSibling) {
          row.parentNode.insertBefore(row.nextElementSibling, row);
        }
        renumber(table);
      });
    });
  });
})();
