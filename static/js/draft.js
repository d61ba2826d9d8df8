// Keep a long form's typing on this device until the server has it: a dropped connection
// or a closed tab loses nothing. The page that follows a successful save clears the draft.
(function () {
  // Signed out (the sign-in page): nothing typed for a room stays on a shared device.
  if (document.querySelector("[data-clear-all-drafts]")) {
    try {
      Object.keys(localStorage).forEach(function (key) {
        if (key.indexOf("fca-") === 0) localStorage.removeItem(key);
      });
    } catch (e) {}
  }
  document.querySelectorAll("[data-clear-draft]").forEach(function (element) {
    try {
      localStorage.removeItem(element.dataset.clearDraft);
    } catch (e) {}
  });
  var form = document.querySelector("form[data-draft-key]");
  if (!form) return;
  var key = form.dataset.draftKey;
  var notice = document.querySelector("[data-draft-notice]");

  function fields() {
    return Array.prototype.filter.call(form.elements, function (field) {
      return field.name && field.name !== "csrfmiddlewaretoken" && field.type !== "hidden";
    });
  }

  function save() {
    var values = {};
    fields().forEach(function (field) {
      if (field.type === "radio" || field.type === "checkbox") {
        if (field.checked) (values[field.name] = values[field.name] || []).push(field.value);
      } else {
        values[field.name] = field.value;
      }
    });
    try {
      localStorage.setItem(key, JSON.stringify(values));
    } catch (e) {}
  }

  var kept = null;
  try {
    kept = JSON.parse(localStorage.getItem(key) || "null");
  } catch (e) {}
  // Restore only onto a fresh form: a page the server sent back with errors is newer.
  if (kept && !document.querySelector(".nhsuk-error-summary")) {
    fields().forEach(function (field) {
      if (!(field.name in kept)) return;
      if (field.type === "radio" || field.type === "checkbox") {
        field.checked = kept[field.name].indexOf(field.value) !== -1;
      } else {
        field.value = kept[field.name];
      }
    });
    if (notice) notice.hidden = false;
  }
  form.addEventListener("input", save);
  form.addEventListener("change", save);
})();
