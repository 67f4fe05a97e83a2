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

  // A selection sent by GET (« Écrire », « Conversation ») goes without the form's CSRF
  // token: it belongs in a POST, not in an address that history and proxies keep.
  document.addEventListener("submit", (event) => {
    const submitter = event.submitter;
    const method = (submitter && submitter.getAttribute("formmethod")) || event.target.method;
    if (String(method).toLowerCase() !== "get") { return; }
    // and without where a POST would return to (« next »): only the selection
    event.target.querySelectorAll('input[name="csrfmiddlewaretoken"], input[name="next"]').forEach((input) => {
      input.disabled = true;
      setTimeout(() => { input.disabled = false; }, 0);
    });
  });

  // [data-confirm] on a button or a link: ask first, and do nothing if the answer is no
  // (instead of onclick="return confirm(…)", which the Content-Security-Policy refuses).
  // Listened to in the capture phase, so a refusal also stops htmx and other handlers.
  document.addEventListener("click", (event) => {
    const asker = event.target.closest("[data-confirm]");
    if (!asker || !asker.matches("button, a, input[type=submit], input[type=button]")) { return; }
    if (!window.confirm(asker.dataset.confirm)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  // [data-autosubmit] on a select or an input: a change submits its form (instead of
  // onchange="this.form.submit()"). requestSubmit fires « submit », so htmx and the editors
  // see it as if the person had pressed the button.
  document.addEventListener("change", (event) => {
    const field = event.target.closest("[data-autosubmit]");
    if (!field || !field.form) { return; }
    if (field.form.requestSubmit) { field.form.requestSubmit(); } else { field.form.submit(); }
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

  // Rich text: a small editor over the (hidden) textarea the server reads and sanitises.
  function syncEditor(editor) {
    editor.querySelector("textarea").value = editor.querySelector(".surface").innerHTML;
  }
  function setUpEditors(root) {
    root.querySelectorAll("[data-editor]").forEach((editor) => {
      if (editor.dataset.ready) { return; }
      editor.dataset.ready = "1";
      const area = editor.querySelector("textarea");
      const surface = editor.querySelector(".surface");
      surface.innerHTML = area.value;
      area.hidden = true;
      surface.addEventListener("input", () => syncEditor(editor));
      editor.querySelectorAll("[data-cmd]").forEach((button) => {
        button.addEventListener("click", () => {
          surface.focus();
          let value = null;
          if (button.dataset.ask) {
            value = window.prompt(button.dataset.ask, "https://");
            if (!value) { return; }
          }
          document.execCommand(button.dataset.cmd, false, value);
          syncEditor(editor);
        });
      });
    });
  }
  document.addEventListener("DOMContentLoaded", () => setUpEditors(document));
  document.addEventListener("submit", (event) => {
    event.target.querySelectorAll("[data-editor]").forEach(syncEditor);
  });

  // Dynamic tags: the copy button puts {prénom} & co. on the clipboard.
  document.addEventListener("click", (event) => {
    const copy = event.target.closest("[data-copy]");
    if (!copy) { return; }
    if (navigator.clipboard) { navigator.clipboard.writeText(copy.dataset.copy); }
    copy.classList.add("copied");
    window.setTimeout(() => copy.classList.remove("copied"), 800);
  });

  // Recipients: the cohort and « Personnes » fields show only for their audience.
  function showFor(form) {
    const audience = form.querySelector('select[name="audience"]');
    if (!audience) { return; }
    form.querySelectorAll("[data-show-for]").forEach((block) => {
      block.hidden = block.dataset.showFor !== audience.value;
    });
  }
  document.addEventListener("change", (event) => {
    if (event.target.matches('select[name="audience"]')) { showFor(event.target.form); }
  });
  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("form.compose").forEach(showFor);
  });

  // People chosen one by one (« Personnes », the e-mail log's members): chips.
  function chipsChanged(chips) {
    const hidden = chips.parentElement.querySelector('input[name="people"]');
    if (hidden) {
      hidden.value = Array.from(chips.querySelectorAll("[data-id]")).map((c) => c.dataset.id).join(",");
    }
  }
  document.addEventListener("click", (event) => {
    const pick = event.target.closest("[data-pick]");
    if (pick) {
      const block = pick.closest("div").parentElement;
      const chips = block.querySelector("[data-chips]");
      if (!chips.querySelector('[data-id="' + pick.dataset.pick + '"]')) {
        const chip = document.createElement("span");
        chip.className = "chip";
        chip.dataset.id = pick.dataset.pick;
        chip.textContent = pick.dataset.name + " ";
        const remove = document.createElement("button");
        remove.type = "button";
        remove.dataset.unchip = "1";
        remove.textContent = "×";
        chip.appendChild(remove);
        if (chips.dataset.field) {
          const input = document.createElement("input");
          input.type = "hidden";
          input.name = chips.dataset.field;
          input.value = pick.dataset.pick;
          chip.appendChild(input);
        }
        chips.appendChild(chip);
        chipsChanged(chips);
      }
      block.querySelector("#people-found").innerHTML = "";
      block.querySelector('input[type="search"]').value = "";
      return;
    }
    const unchip = event.target.closest("[data-unchip]");
    if (unchip) {
      const chips = unchip.closest("[data-chips]");
      unchip.closest(".chip").remove();
      chipsChanged(chips);
    }
  });

  // Online dots: every 30 s, ask who of the people on the page is online (without keeping
  // this person « active » by the poll itself).
  function pollPresence() {
    const dots = Array.from(document.querySelectorAll("[data-presence]"));
    if (!dots.length) { return; }
    const ids = Array.from(new Set(dots.map((d) => d.dataset.presence))).join(",");
    const url = document.body.dataset.presenceUrl + "?ids=" + ids;
    fetch(url, { headers: { "X-Presence-Poll": "1" }, credentials: "same-origin" })
      .then((r) => (r.ok ? r.json() : { online: [] }))
      .then((data) => {
        const online = new Set(data.online.map(String));
        dots.forEach((dot) => {
          const on = online.has(dot.dataset.presence);
          dot.classList.toggle("online", on);
          dot.title = on ? dot.dataset.on || "en ligne" : dot.dataset.off || "hors ligne";
        });
      })
      .catch(() => {});
  }
  document.addEventListener("DOMContentLoaded", () => {
    pollPresence();
    window.setInterval(pollPresence, 30000);
  });
  document.addEventListener("htmx:afterSwap", pollPresence);
  // ---- Design system (docs/design.md) ----

  // Menus (<details class="menu-wrap">, the row « ⋯ », « Autres actions »): the menu opens
  // inside the viewport — aligned to whichever side has room, above when there is no room
  // below, and fixed to the screen when it sits in a scrolling table frame (which would clip
  // it). One menu open at a time; Escape or a click elsewhere closes it.
  const GAP = 8;
  function placeMenu(details) {
    const menu = details.querySelector(":scope > .menu");
    const summary = details.querySelector(":scope > summary");
    if (!menu || !summary) { return; }
    menu.classList.remove("open-up", "align-left", "fixed");
    menu.style.left = ""; menu.style.top = "";
    const vw = document.documentElement.clientWidth;
    const vh = window.innerHeight;
    const trigger = summary.getBoundingClientRect();
    if (details.closest(".table-frame, .scroll")) {
      menu.classList.add("fixed");
      const box = menu.getBoundingClientRect();
      const left = Math.max(GAP, Math.min(trigger.right - box.width, vw - box.width - GAP));
      let top = trigger.bottom + 4;
      if (top + box.height > vh - GAP && trigger.top - box.height - 4 > GAP) {
        top = trigger.top - box.height - 4;
      }
      menu.style.left = left + "px";
      menu.style.top = top + "px";
      return;
    }
    let box = menu.getBoundingClientRect();
    if (box.left < GAP) { menu.classList.add("align-left"); box = menu.getBoundingClientRect(); }
    if (box.right > vw - GAP) {
      menu.classList.remove("align-left");
      menu.style.left = (vw - GAP - box.width - trigger.left) + "px";
    }
    if (box.bottom > vh - GAP && trigger.top - box.height > GAP) { menu.classList.add("open-up"); }
  }
  function closeMenus(except) {
    document.querySelectorAll("details.menu-wrap[open]").forEach((d) => {
      if (d !== except && !d.contains(except)) { d.open = false; }
    });
  }
  document.addEventListener("toggle", (event) => {
    const target = event.target;
    if (target.matches && target.matches("details.menu-wrap") && target.open) {
      closeMenus(target);
      placeMenu(target);
    }
    if (target.matches && target.matches("[popover]") && event.newState === "open") {
      placePopover(target);
    }
  }, true);
  document.addEventListener("click", (event) => {
    const inside = event.target.closest("details.menu-wrap");
    closeMenus(inside);
  });
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") { return; }
    const open = event.target.closest && event.target.closest("details.menu-wrap[open]");
    document.querySelectorAll("details.menu-wrap[open]").forEach((d) => { d.open = false; });
    if (open) { open.querySelector(":scope > summary").focus(); }
  });
  // A fixed menu would float away from its row: scrolling closes it.
  document.addEventListener("scroll", (event) => {
    document.querySelectorAll("details.menu-wrap[open] > .menu.fixed").forEach((menu) => {
      if (!menu.contains(event.target)) { menu.parentElement.open = false; }
    });
  }, true);
  window.addEventListener("resize", () => {
    document.querySelectorAll("details.menu-wrap[open]").forEach(placeMenu);
  });

  // Popovers (the ❗ reasons): native [popover] (keyboard, Escape, light dismiss), placed
  // under the button that opened it and kept inside the viewport.
  function placePopover(popover) {
    const opener = document.querySelector('[popovertarget="' + popover.id + '"]');
    if (!opener) { return; }
    const at = opener.getBoundingClientRect();
    const box = popover.getBoundingClientRect();
    const vw = document.documentElement.clientWidth;
    const left = Math.max(GAP, Math.min(at.right - box.width, vw - box.width - GAP));
    let top = at.bottom + 4;
    if (top + box.height > window.innerHeight - GAP && at.top - box.height - 4 > GAP) {
      top = at.top - box.height - 4;
    }
    popover.style.left = left + "px";
    popover.style.top = top + "px";
  }

  // Toasts: the × closes one; they stay until then (nothing to read in a hurry).
  document.addEventListener("click", (event) => {
    const close = event.target.closest("[data-dismiss]");
    if (!close) { return; }
    const toast = close.closest(".toast");
    const stack = toast.parentElement;
    toast.remove();
    if (!stack.querySelector(".toast")) { stack.remove(); }
  });

  // The sidebar on a phone: a « Menu » button shows or hides it.
  document.addEventListener("click", (event) => {
    const toggle = event.target.closest("[data-nav-toggle]");
    if (!toggle) { return; }
    const sidebar = toggle.closest(".sidebar");
    const open = sidebar.classList.toggle("open");
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
  });
})();
