// Searchable selects (Tom Select) on every select[data-searchable]: the page's own <select>
// stays in the form and is what is submitted, so without this script the form still works.
// Texts come translated from the <script> tag's data-* attributes (base.html).
// A select with data-search-url also asks the server (JSON {results: [{value, text}]}) for
// people beyond those already in the list, once two letters are typed.
(function () {
  "use strict";
  const script = document.currentScript;
  const texts = (script && script.dataset) || {};

  function escapeHtml(text) {
    const span = document.createElement("span");
    span.textContent = text == null ? "" : String(text);
    return span.innerHTML;
  }

  function labelOf(select) {
    // « <label>Mentoré <select>…</select></label> »: Tom Select only follows label[for].
    const wrapping = select.closest("label");
    if (wrapping && !wrapping.htmlFor) {
      if (!wrapping.id) { wrapping.id = (select.id || select.name) + "-ts-wrapping-label"; }
      return wrapping.id;
    }
    return null;
  }

  function enhance(select) {
    if (select.tomselect || typeof window.TomSelect !== "function") { return; }
    const multiple = select.multiple;
    const url = select.dataset.searchUrl;
    const settings = {
      maxOptions: 200,
      hideSelected: multiple,
      closeAfterSelect: !multiple,
      clearAfterSelect: true,
      allowEmptyOption: true,
      placeholder: select.dataset.placeholder || texts.placeholder || "",
      plugins: multiple
        ? { remove_button: { title: select.dataset.removeLabel || texts.remove || "×" } }
        : {},
      render: {
        no_results: () => '<div class="no-results">' + escapeHtml(texts.noResults) + "</div>",
        loading: () => '<div class="spinner" role="status">' + escapeHtml(texts.loading) + "</div>",
      },
    };
    if (url) {
      settings.shouldLoad = (query) => query.trim().length >= 2;
      settings.load = (query, callback) => {
        const address = new URL(url, window.location.href);
        address.searchParams.set("q", query.slice(0, 100));
        fetch(address, { headers: { Accept: "application/json" }, credentials: "same-origin" })
          .then((response) => (response.ok ? response.json() : { results: [] }))
          .then((data) => callback(data.results || []))
          .catch(() => callback());
      };
    }
    const tom = new window.TomSelect(select, settings);
    const control = tom.control_input;
    // What the page said about the field (help, error, invalid) also describes the box one types in.
    ["aria-describedby", "aria-invalid", "aria-label"].forEach((name) => {
      if (select.hasAttribute(name)) { control.setAttribute(name, select.getAttribute(name)); }
    });
    if (!tom.focus_node.hasAttribute("aria-labelledby")) {
      const labelId = labelOf(select);
      if (labelId) { tom.focus_node.setAttribute("aria-labelledby", labelId); }
    }
    // Tom Select points the label at its own box: the page's <select>, hidden but still in the
    // accessibility tree, keeps its name through the same label.
    const named = tom.focus_node.getAttribute("aria-labelledby");
    if (named && !select.hasAttribute("aria-label")) { select.setAttribute("aria-labelledby", named); }
    if (select.getAttribute("aria-invalid") === "true") { tom.wrapper.classList.add("is-invalid"); }
  }

  function enhanceAll(root) {
    const scope = root && root.querySelectorAll ? root : document;
    if (scope.matches && scope.matches("select[data-searchable]")) { enhance(scope); }
    scope.querySelectorAll("select[data-searchable]").forEach(enhance);
  }

  document.addEventListener("DOMContentLoaded", () => enhanceAll(document));
  // Content swapped in by htmx (filters, partials) gets the same treatment.
  document.addEventListener("htmx:load", (event) => enhanceAll(event.target));
})();
