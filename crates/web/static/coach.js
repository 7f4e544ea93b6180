// Coach hints while writing: after a short pause, the text is analysed on the
// server (never stored) and kind hints appear under the box. It never blocks
// saving; without JavaScript the form works the same, just without hints.
(function () {
  "use strict";
  var boxes = document.querySelectorAll("textarea[data-coach]");
  if (!boxes.length) { return; }
  var csrfField = document.querySelector("input[name=csrf]");
  var csrf = csrfField ? csrfField.value : "";
  var labels = {
    criticism: "Criticism", contempt: "Contempt", defensiveness: "Defensiveness",
    stonewalling: "Withdrawing", i_statement: "I-statement", repair: "Repair",
    appreciation: "Appreciation", crisis: "You matter"
  };
  function render(panel, analysis) {
    panel.textContent = "";
    var findings = analysis.findings || [];
    if (!findings.length) { return; }
    var list = document.createElement("ul");
    findings.slice(0, 4).forEach(function (finding) {
      var item = document.createElement("li");
      var strong = document.createElement("strong");
      strong.textContent = (labels[finding.kind] || finding.kind) + ": ";
      item.appendChild(strong);
      item.appendChild(document.createTextNode(finding.explanation));
      if (finding.kind === "crisis") { item.className = "coach-crisis"; }
      list.appendChild(item);
    });
    panel.appendChild(list);
    if (analysis.suggestion) {
      var suggestion = document.createElement("p");
      suggestion.textContent = "You could try: " + analysis.suggestion;
      panel.appendChild(suggestion);
    }
  }
  boxes.forEach(function (box) {
    var panel = document.createElement("div");
    panel.className = "coach-hints";
    panel.setAttribute("aria-live", "polite");
    box.insertAdjacentElement("afterend", panel);
    var timer = null;
    var last = "";
    box.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var text = box.value;
        if (text === last) { return; }
        last = text;
        if (text.trim().length < 4) { panel.textContent = ""; return; }
        fetch("/api/v1/coach/analyze", {
          method: "POST",
          credentials: "same-origin",
          headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
          body: JSON.stringify({ text: text })
        }).then(function (response) {
          return response.ok ? response.json() : null;
        }).then(function (analysis) {
          if (analysis && box.value === text) { render(panel, analysis); }
        }).catch(function () { /* hints are optional */ });
      }, 700);
    });
  });
}());
