// A structured talk, live: turns arrive as server-sent events and appear
// without reloading. When nothing is being typed, the page reloads so the
// right move is offered; otherwise a notice says the talk moved on. Without
// JavaScript the talk works the same by reloading the page.
(function () {
  "use strict";
  var list = document.getElementById("turns");
  if (!list || !window.EventSource) { return; }
  var notice = document.getElementById("talk-news");
  var source = new EventSource(list.getAttribute("data-events"));
  // A move being sent reloads the page itself; a reload now would cancel it.
  var sending = false;
  document.addEventListener("submit", function () { sending = true; source.close(); });
  function typing() {
    var boxes = document.querySelectorAll("main textarea");
    for (var i = 0; i < boxes.length; i++) {
      if (boxes[i].value.trim() !== "") { return true; }
    }
    return false;
  }
  source.addEventListener("turn", function (event) {
    var turn = JSON.parse(event.data);
    if (document.getElementById("turn-" + turn.seq)) { return; }
    var item = document.createElement("li");
    item.id = "turn-" + turn.seq;
    var meta = document.createElement("p");
    meta.className = "meta";
    meta.textContent = turn.author_name + " " + turn.verb;
    item.appendChild(meta);
    if (turn.body) {
      var body = document.createElement("p");
      body.textContent = turn.body;
      item.appendChild(body);
    }
    list.appendChild(item);
    if (sending) { return; }
    if (!typing()) {
      window.location.reload();
    } else if (notice) {
      notice.hidden = false;
    }
  });
})();
