// Upload with a progress bar: the form still works without JavaScript (a plain post).
(() => {
  const form = document.querySelector("form[data-upload-progress]");
  if (!form || !window.XMLHttpRequest) return;
  const box = form.querySelector("[data-progress]");
  const bar = box.querySelector("progress");
  const words = box.querySelector("[data-progress-words]");
  form.addEventListener("submit", (event) => {
    const input = form.querySelector("input[type=file]");
    if (!input.files.length) return; // the server says what is missing
    event.preventDefault();
    const request = new XMLHttpRequest();
    request.open("POST", form.action || window.location.href);
    box.hidden = false;
    form.querySelector("button[type=submit]").disabled = true;
    request.upload.addEventListener("progress", (e) => {
      if (!e.lengthComputable) return;
      const percent = Math.round((100 * e.loaded) / e.total);
      bar.value = percent;
      words.textContent = `${percent}% sent`;
    });
    request.addEventListener("load", () => {
      // Redirected to the upload's status page, or the form again with its errors.
      if (request.responseURL && request.responseURL !== window.location.href) {
        window.location.assign(request.responseURL);
      } else {
        document.open();
        document.write(request.responseText);
        document.close();
      }
    });
    request.addEventListener("error", () => {
      words.textContent = "The upload stopped: check the connection and try again.";
      form.querySelector("button[type=submit]").disabled = false;
    });
    request.send(new FormData(form));
  });
})();
