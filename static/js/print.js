// "Print this summary" buttons: the page's print styles leave out everything but it.
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.addEventListener("click", function () {
    window.print();
  });
});
