// Meeting mode: the item's countdown (warning at half time and at one minute, in words and
// shape as well as colour) and, on the laptop that drives it, keyboard shortcuts.
(function () {
  function tick() {
    var clock = document.querySelector("[data-countdown]");
    if (!clock) return;
    var minutes = Number(clock.dataset.minutes);
    var started = clock.dataset.started ? Date.parse(clock.dataset.started) : NaN;
    if (isNaN(started)) {
      clock.textContent = minutes + ":00 for this item";
      return;
    }
    var left = Math.round(minutes * 60 - (Date.now() - started) / 1000);
    var sign = left < 0 ? "−" : "";
    var abs = Math.abs(left);
    var text = sign + Math.floor(abs / 60) + ":" + String(abs % 60).padStart(2, "0");
    clock.classList.remove("app-meeting__clock--half", "app-meeting__clock--last", "app-meeting__clock--over");
    if (left < 0) {
      clock.classList.add("app-meeting__clock--over");
      text = "■ Over time " + text;
    } else if (left <= 60) {
      clock.classList.add("app-meeting__clock--last");
      text = "▲ 1 minute left " + text;
    } else if (left <= minutes * 30) {
      clock.classList.add("app-meeting__clock--half");
      text = "◆ Half time " + text;
    }
    clock.textContent = text;
  }
  setInterval(tick, 1000);
  document.body.addEventListener("htmx:afterSettle", tick);
  tick();

  var drive = document.querySelector("[data-meeting-drive]");
  if (!drive) return;
  document.addEventListener("keydown", function (event) {
    if (event.target.closest("input, textarea")) return;
    if (event.key === "f" || event.key === "F") {
      if (document.documentElement.requestFullscreen) document.documentElement.requestFullscreen();
      return;
    }
    var key = event.key === "R" ? "r" : event.key;
    var button = drive.querySelector('[data-key="' + key + '"]');
    if (button) {
      event.preventDefault();
      button.click();
    }
  });
})();
