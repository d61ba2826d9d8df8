// Save session notes as they are typed, and never lose them to a dropped connection:
// each part is kept in this browser until the server has it, retried until it does, and a
// part someone else changed meanwhile is shown beside this person's own to keep either.
(function () {
  var form = document.querySelector("[data-autosave]");
  if (!form || !window.fetch) return;
  var url = form.dataset.autosave;
  var status = document.querySelector("[data-save-status]");
  var csrf = form.querySelector("[name=csrfmiddlewaretoken]").value;
  var storeKey = "fca-session-" + form.dataset.session + "-" + form.dataset.person + "-";
  var pending = {};
  var timer = null;
  var warned = "";

  function say(text) {
    status.textContent = text;
  }

  function versionOf(part) {
    return form.querySelector('[data-version="' + part + '"]');
  }

  function remember(part, text) {
    try {
      localStorage.setItem(storeKey + part, JSON.stringify({ text: text, version: versionOf(part).value }));
    } catch (e) {
      // Private browsing: saving still works, only the local copy is lost.
    }
  }

  function forget(part) {
    try {
      localStorage.removeItem(storeKey + part);
    } catch (e) {}
  }

  function showConflict(part, theirs, version) {
    versionOf(part).value = version;
    form.querySelector('[data-theirs="' + part + '"]').textContent = theirs;
    form.querySelector('[data-conflict="' + part + '"]').hidden = false;
    form.querySelector('[data-part-group="' + part + '"]').classList.add("nhsuk-form-group--error");
    say("Someone else changed a part meanwhile: see both, then keep either.");
  }

  function send(part) {
    var box = form.querySelector('[data-part="' + part + '"]');
    var body = new URLSearchParams({ part: part, text: box.value, version: versionOf(part).value });
    return fetch(url, {
      method: "POST",
      headers: { "X-CSRFToken": csrf, "Content-Type": "application/x-www-form-urlencoded" },
      body: body,
      credentials: "same-origin",
    }).then(function (response) {
      return response.json().then(function (data) {
        if (response.status === 409) {
          delete pending[part];
          showConflict(part, data.theirs, data.version);
          return "conflict";
        }
        if (!response.ok) throw new Error(data.error || "not saved");
        versionOf(part).value = data.version;
        delete pending[part];
        forget(part);
        if (data.warnings && data.warnings.length) {
          warned = "Saved, but this " + data.warnings.join(" and ") + ": if it is about a patient, remove it.";
        }
        return "saved";
      });
    });
  }

  function flush() {
    timer = null;
    var parts = Object.keys(pending);
    if (!parts.length) return;
    Promise.all(parts.map(send)).then(
      function (results) {
        if (results.indexOf("conflict") === -1) say(warned || "Saved");
        warned = "";
      },
      function () {
        say("Not saved yet — will retry. What you typed is kept on this device.");
        timer = setTimeout(flush, 3000);
      }
    );
  }

  function changed(part, text) {
    pending[part] = true;
    remember(part, text);
    if (timer) clearTimeout(timer);
    timer = setTimeout(flush, 800);
  }

  form.querySelectorAll("[data-part]").forEach(function (box) {
    var part = box.dataset.part;
    // Typed before a reload or a lost connection, and never saved: put it back.
    try {
      var kept = JSON.parse(localStorage.getItem(storeKey + part) || "null");
      if (kept && kept.text !== box.value) {
        box.value = kept.text;
        if (kept.version !== versionOf(part).value) versionOf(part).value = kept.version;
        changed(part, kept.text);
      }
    } catch (e) {}
    box.addEventListener("input", function () {
      changed(part, box.value);
    });
  });

  form.querySelectorAll("[data-keep-theirs]").forEach(function (button) {
    button.addEventListener("click", function () {
      var part = button.dataset.keepTheirs;
      var box = form.querySelector('[data-part="' + part + '"]');
      box.value = form.querySelector('[data-theirs="' + part + '"]').textContent;
      form.querySelector('[data-conflict="' + part + '"]').hidden = true;
      forget(part);
      say("Kept their version.");
    });
  });

  window.addEventListener("online", flush);
  say("Notes save as you type.");
})();
