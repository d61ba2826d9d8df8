// Draw each server-built Plotly figure handed to the page with json_script.
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
