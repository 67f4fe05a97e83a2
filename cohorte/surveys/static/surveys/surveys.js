/* Surveys: the builder shows a question's options only for the choice kinds; the answer
   page shows a question with a condition only while the earlier answer it names is one of
   its values (the server applies the same rule: a hidden question is never required).
   Without JavaScript every field shows, with its condition written under it. */
(function () {
  "use strict";

  var CHOICE_KINDS = ["single", "multiple"];

  function builderRows(root) {
    root.querySelectorAll("[data-question-row]").forEach(function (row) {
      var kind = row.querySelector("select[name$='-kind']");
      var options = row.querySelector("[data-options]");
      if (kind && options) {
        options.hidden = CHOICE_KINDS.indexOf(kind.value) < 0;
      }
    });
  }

  function valuesOf(fieldset) {
    var values = [];
    fieldset.querySelectorAll("input, textarea, select").forEach(function (input) {
      if (input.disabled) return;
      if (input.type === "radio" || input.type === "checkbox") {
        if (input.checked) values.push(input.value);
      } else if (input.value.trim()) {
        values.push(input.value.trim());
      }
    });
    return values;
  }

  function answerConditions(form) {
    var shown = {};
    form.querySelectorAll("fieldset[data-question]").forEach(function (fieldset) {
      var key = fieldset.getAttribute("data-question");
      var on = fieldset.getAttribute("data-show-if");
      var visible = true;
      if (on) {
        var wanted = [];
        try {
          wanted = JSON.parse(fieldset.getAttribute("data-show-in") || "[]");
        } catch (error) {
          wanted = [];
        }
        var given = shown[on] || [];
        visible = given.some(function (value) {
          return wanted.indexOf(value) >= 0;
        });
        var hint = fieldset.querySelector("[data-condition-hint]");
        if (hint) hint.hidden = true;
      }
      fieldset.hidden = !visible;
      fieldset.querySelectorAll("input, textarea, select").forEach(function (input) {
        input.disabled = !visible;
      });
      shown[key] = visible ? valuesOf(fieldset) : null;
    });
  }

  function start(root) {
    builderRows(root);
    document.querySelectorAll("form.survey-answer").forEach(answerConditions);
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (!(target instanceof Element)) return;
    if (target.closest("[data-question-row]")) builderRows(document);
    var form = target.closest("form.survey-answer");
    if (form) answerConditions(form);
  });
  document.addEventListener("input", function (event) {
    var form = event.target instanceof Element && event.target.closest("form.survey-answer");
    if (form) answerConditions(form);
  });
  document.addEventListener("htmx:load", function (event) {
    builderRows(event.target instanceof Element ? event.target : document);
  });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { start(document); });
  } else {
    start(document);
  }
})();
