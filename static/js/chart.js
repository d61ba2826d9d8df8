// Draw each server-built Plotly figure handed to the page with json_script, and offer it
// as a PNG.
document.querySelectorAll("[data-figure]").forEach(function (element) {
  var source = document.getElementById(element.dataset.figure);
  if (!source || !window.Plotly) return;
  var figure = JSON.parse(source.textContent);
  window.Plotly.newPlot(element, figure.data, figure.layout, {
    responsive: true,
    // No toolbar: its buttons would sit inside the chart's role="img", and the same data
    // is in the table below for anyone who cannot use the picture.
    displayModeBar: false,
  });
});

document.querySelectorAll("[data-download-chart]").forEach(function (button) {
  button.addEventListener("click", function () {
    var element = document.getElementById(button.dataset.downloadChart);
    if (!element || !window.Plotly) return;
    window.Plotly.downloadImage(element, {
      format: "png",
      width: 1200,
      height: 500,
      filename: button.dataset.filename || "chart",
    });
  });
});
