// Draw each server-built Plotly figure handed to the page with json_script, offer it as a
// PNG, and draw again whatever htmx swaps in when a recompute lands.
function drawCharts() {
  document.querySelectorAll("[data-figure]:not(.js-plotly-plot)").forEach(function (element) {
    var source = document.getElementById(element.dataset.figure);
    if (!source || !window.Plotly) return;
    var figure = JSON.parse(source.textContent);
    window.Plotly.newPlot(element, figure.data, figure.layout, {
      responsive: true,
      // No toolbar: the chart is a picture to screen readers, and its data is in the table.
      displayModeBar: false,
    }).then(function () {
      // Plotly's hidden text-measuring SVG is no picture either.
      document.querySelectorAll("#js-plotly-tester").forEach(function (tester) {
        tester.setAttribute("aria-hidden", "true");
      });
    });
  });
}

document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-download-chart]");
  if (!button || !window.Plotly) return;
  var element = document.getElementById(button.dataset.downloadChart);
  if (!element) return;
  window.Plotly.downloadImage(element, {
    format: "png",
    width: 1200,
    height: 500,
    filename: button.dataset.filename || "chart",
  });
});

drawCharts();
document.body.addEventListener("htmx:afterSettle", drawCharts);
