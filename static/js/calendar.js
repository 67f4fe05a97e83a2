// The sessions calendar: FullCalendar (MIT core, vendored) on our feed, in the time zone the
// page states. Everything it needs comes from data- attributes and the feed's JSON: no inline
// script, no inline <style> (our Content-Security-Policy refuses both).
"use strict";

// FullCalendar v6 keeps its rules in a <style data-fullcalendar> it writes into <head>, which
// our policy (style-src 'self') refuses. While its script loads, that lookup is answered with
// our own empty stylesheet, whose sheet takes the same rules through CSSOM — all but the
// @font-face of its icon font, a data: font that the policy refuses too (we use text).
(function lendStylesheet() {
  const own = Document.prototype.querySelector;
  let lent = null;
  document.querySelector = function (selector) {
    if (selector === "style[data-fullcalendar]") {
      const host = own.call(document, "#fullcalendar-styles");
      if (!lent && host && host.sheet) {
        const sheet = host.sheet;
        lent = {
          isConnected: true,
          sheet: {
            get cssRules() { return sheet.cssRules; },
            insertRule(rule, index) {
              if (/^\s*@font-face/.test(rule)) return index;
              return sheet.insertRule(rule, Math.min(index, sheet.cssRules.length));
            },
          },
        };
      }
      if (lent) return lent;
    }
    return own.call(this, selector);
  };
  document.addEventListener("DOMContentLoaded", () => delete document.querySelector, { once: true });
})();

(function () {
  const ANSWERS = { accepted: "✓", declined: "✗" };

  // FullCalendar gives times in a named zone as Dates whose UTC fields are the wall clock
  function wallText(date, locale, withDay) {
    const options = withDay
      ? { timeZone: "UTC", weekday: "long", day: "numeric", month: "long", year: "numeric",
          hour: "2-digit", minute: "2-digit" }
      : { timeZone: "UTC", hour: "2-digit", minute: "2-digit" };
    return new Intl.DateTimeFormat(locale, options).format(date);
  }

  function wallIso(date) {
    return date.toISOString().slice(0, 19);
  }

  // now, as the wall clock of the stated zone (for « today » and the now line)
  function wallNow(tz) {
    const parts = {};
    new Intl.DateTimeFormat("en-US", {
      timeZone: tz, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", second: "2-digit",
    }).formatToParts(new Date()).forEach((p) => { parts[p.type] = p.value; });
    return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}`;
  }

  function say(box, text, isError) {
    box.textContent = text;
    box.hidden = false;
    box.classList.toggle("error", Boolean(isError));
    box.setAttribute("role", isError ? "alert" : "status");
  }

  function link(anchor, href) {
    anchor.hidden = !href;
    if (href) anchor.href = href;
  }

  function showDetails(dialog, event, locale) {
    const props = event.extendedProps;
    dialog.querySelector("#event-title").textContent = event.title;
    dialog.querySelector(".event-when").textContent =
      `${wallText(event.start, locale, true)} – ${wallText(event.end, locale, false)}`;
    dialog.querySelector(".event-what").textContent =
      [props.kindLabel, props.typeLabel, props.statusLabel].filter(Boolean).join(" · ");
    const place = dialog.querySelector(".event-place");
    place.replaceChildren();
    if (/^https:\/\/\S+$/.test(props.place || "")) {
      const a = document.createElement("a");
      a.href = props.place;
      a.textContent = props.place;
      a.rel = "noopener";
      place.append(a);
    } else {
      place.textContent = props.place || "";
    }
    const answers = dialog.querySelector(".answers");
    answers.replaceChildren(...(props.attendees || []).map((person) => {
      const li = document.createElement("li");
      li.className = `answer-${person.response}`;
      li.textContent = `${ANSWERS[person.response] || "?"} ${person.name}`;
      return li;
    }));
    link(dialog.querySelector(".event-relationship"), props.relationshipUrl);
    link(dialog.querySelector(".event-reschedule"), props.rescheduleUrl);
    link(dialog.querySelector(".event-cancel"), props.cancelUrl);
    dialog.showModal();
  }

  // the drop, once confirmed: « Reporter »'s service; refused, the session goes back
  function askToMove(info, ctx) {
    const dialog = ctx.moveDialog;
    const event = info.event;
    dialog.querySelector(".move-what").textContent = event.title;
    dialog.querySelector(".move-old").textContent = wallText(info.oldEvent.start, ctx.locale, true);
    dialog.querySelector(".move-new").textContent = wallText(event.start, ctx.locale, true);
    dialog.returnValue = "";
    dialog.addEventListener("close", async () => {
      if (dialog.returnValue !== "confirm") {
        info.revert();
        return;
      }
      const response = await fetch(event.extendedProps.moveUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": ctx.csrf },
        body: JSON.stringify({ starts_at: wallIso(event.start), tz: ctx.tz }),
      }).catch(() => null);
      if (response && response.ok) {
        say(ctx.message, ctx.message.dataset.moved, false);
        ctx.calendar.refetchEvents();
        return;
      }
      info.revert();
      let reason = "";
      try {
        const body = await response.json();
        reason = (body.errors || []).map((e) => e.reason).join(" ") || body.message || "";
      } catch (error) {
        reason = response ? String(response.status) : "";
      }
      say(ctx.message, `${ctx.message.dataset.refused} ${reason}`, true);
    }, { once: true });
    dialog.showModal();
  }

  document.addEventListener("DOMContentLoaded", () => {
    const el = document.getElementById("calendar");
    if (!el || !window.FullCalendar) return;
    const data = el.dataset;
    const ctx = {
      tz: data.tz,
      locale: data.locale === "en" ? "en-GB" : data.locale,
      csrf: data.csrf,
      message: document.getElementById("calendar-message"),
      moveDialog: document.getElementById("move-dialog"),
    };
    const details = document.getElementById("event-dialog");
    const names = { dayGridMonth: "month", timeGridWeek: "week", timeGridDay: "day" };
    ctx.calendar = new window.FullCalendar.Calendar(el, {
      locale: data.locale === "en" ? "en-gb" : data.locale,
      timeZone: data.tz,
      now: () => wallNow(data.tz),
      initialView: data.view,
      initialDate: data.date,
      firstDay: 1,
      height: "auto",
      // text, not FullCalendar's icon font (a data: font, which our policy refuses)
      buttonIcons: false,
      buttonText: { prev: "‹", next: "›", today: data.today, month: data.month,
                    week: data.week, day: data.day },
      headerToolbar: { left: "prev,next today", center: "title",
                       right: "dayGridMonth,timeGridWeek,timeGridDay" },
      // week and day: the hour grid in a frame of its own, opened at 08:00
      views: { dayGridMonth: { dayMaxEvents: false }, timeGrid: { height: 760 } },
      allDaySlot: false,  // sessions always have hours
      slotEventOverlap: false,  // sessions at the same time side by side, never on top
      eventDisplay: "block",
      // every session is focusable and opens its details with Enter (« Reporter » is there
      // for those who do not drag)
      eventInteractive: true,
      eventTimeFormat: { hour: "2-digit", minute: "2-digit", meridiem: false },
      slotLabelFormat: { hour: "2-digit", minute: "2-digit", hour12: false },
      scrollTime: "08:00:00",
      nowIndicator: true,
      editable: false,
      eventDurationEditable: false,
      // the « + N autres » of a full day comes last in its cell
      eventOrder: (a, b) => (a.more ? 1 : 0) - (b.more ? 1 : 0) || a.start - b.start,
      // each view reads its own window: a month holds only each day's first sessions
      lazyFetching: false,
      events: { url: data.feed, timeZoneParam: "tz",
                failure: () => say(ctx.message, ctx.message.dataset.failed, true) },
      loading: (busy) => { el.dataset.loading = busy ? "true" : "false"; },
      eventDidMount: (arg) => {
        if (!arg.event.extendedProps.more) arg.el.dataset.meeting = arg.event.id;
        arg.el.setAttribute("aria-label", `${arg.timeText} ${arg.event.title}`.trim());
      },
      eventClick: (arg) => {
        arg.jsEvent.preventDefault();
        const props = arg.event.extendedProps;
        if (props.more) {
          ctx.calendar.changeView("timeGridDay", props.day);
        } else {
          showDetails(details, arg.event, ctx.locale);
        }
      },
      eventDrop: (info) => askToMove(info, ctx),
      datesSet: (arg) => {
        const url = new URL(window.location.href);
        url.searchParams.set("view", names[arg.view.type] || "month");
        url.searchParams.set("date", wallIso(arg.view.currentStart).slice(0, 10));
        window.history.replaceState(null, "", url);
      },
    });
    ctx.calendar.render();
  });
})();
