// The Programme tab's Design: the preview beside the form follows the colours, the font
// and the logo as they change, and each colour's contrast with white is shown live (the
// server refuses the same colours with the same ratio).
(function () {
  "use strict";
  const HEX = /^#[0-9a-fA-F]{6}$/;

  function channel(value) {
    const c = value / 255;
    return c <= 0.04045 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
  }
  function luminance(hex) {
    const n = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
    return 0.2126 * channel(n[0]) + 0.7152 * channel(n[1]) + 0.0722 * channel(n[2]);
  }
  function contrast(a, b) {
    const [high, low] = [luminance(a), luminance(b)].sort((x, y) => y - x);
    return (high + 0.05) / (low + 0.05);
  }

  function setup() {
    const form = document.getElementById("brand-form");
    const preview = document.getElementById("brand-preview");
    if (!form || !preview) { return; }
    const minimum = parseFloat(form.dataset.minContrast || "4.5");
    const language = document.documentElement.lang || "fr";
    const backgrounds = (form.dataset.backgrounds || "#ffffff").split(" ");
    const fonts = {};
    (preview.dataset.fonts || "").split("|").forEach((pair) => {
      const at = pair.indexOf("=");
      if (at > 0) { fonts[pair.slice(0, at)] = pair.slice(at + 1); }
    });
    const tokens = { color_primary: "--brand-primary", color_secondary: "--brand-secondary" };

    function showColour(input) {
      const value = input.value.trim();
      const output = form.querySelector(`[data-ratio-for="${input.name}"]`);
      if (!HEX.test(value)) { return; }
      preview.style.setProperty(tokens[input.name], value);
      if (!output) { return; }
      const ratio = Math.min(...backgrounds.map((background) => contrast(value, background)));
      // floor to one decimal: 4.49 must not read as « 4.5 » and look accepted
      const shown = (Math.floor(ratio * 10) / 10).toLocaleString(language, {
        minimumFractionDigits: 1, maximumFractionDigits: 1,
      });
      const low = ratio < minimum;
      output.textContent = (low ? form.dataset.ratioLow : form.dataset.ratioOk).replace("{ratio}", shown);
      output.classList.toggle("brand-ratio-low", low);
      input.setAttribute("aria-invalid", low ? "true" : "false");
    }

    form.querySelectorAll("[data-brand-colour]").forEach((input) => {
      input.addEventListener("input", () => showColour(input));
      input.addEventListener("change", () => showColour(input));
      showColour(input);
    });
    const font = form.querySelector("select[name=font]");
    if (font) {
      const showFont = () => { if (fonts[font.value]) { preview.style.setProperty("--brand-font", fonts[font.value]); } };
      font.addEventListener("change", showFont);
      showFont();
    }
    const logo = form.querySelector("input[type=file][name=logo]");
    const image = preview.querySelector("[data-preview-img=logo]");
    if (logo && image) {
      logo.addEventListener("change", () => {
        const file = logo.files && logo.files[0];
        if (!file || !file.type.startsWith("image/") || file.size > 2 * 1024 * 1024) { return; }
        const reader = new FileReader();
        reader.addEventListener("load", () => { image.src = reader.result; image.hidden = false; });
        reader.readAsDataURL(file);
      });
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setup);
  } else {
    setup();
  }
})();
