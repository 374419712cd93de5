// The clock page: plain JavaScript, no libraries. An EventSource on /clock receives the time
// (ISO 8601, UTC) once a second; the page shows it in the browser's time zone. EventSource
// reconnects by itself when the stream ends.
"use strict";

(function () {
  const clock = document.getElementById("clock");
  const statusLine = document.getElementById("status");
  const note = document.getElementById("note");
  const source = new EventSource("/clock");

  source.onopen = function () {
    statusLine.textContent = "Live";
    statusLine.className = "live";
    note.textContent = "";
  };

  source.onmessage = function (event) {
    const time = new Date(event.data);
    if (Number.isNaN(time.getTime())) return;
    clock.dateTime = event.data;
    clock.textContent = time.toLocaleTimeString();
  };

  // A named event: only listeners for "goodbye" get it, not onmessage.
  source.addEventListener("goodbye", function (event) {
    note.textContent = event.data;
  });

  source.onerror = function () {
    const closed = source.readyState === EventSource.CLOSED;
    statusLine.textContent = closed ? "Stopped" : "Reconnecting…";
    statusLine.className = "";
  };
})();
