// Drag-and-drop onto the file field: the page works without this script.
"use strict";
(function () {
  document.documentElement.classList.add("has-js");
  var drop = document.getElementById("drop");
  var input = document.getElementById("file");
  if (!drop || !input) { return; }
  ["dragenter", "dragover"].forEach(function (name) {
    drop.addEventListener(name, function (event) { event.preventDefault(); drop.classList.add("dragging"); });
  });
  ["dragleave", "drop"].forEach(function (name) {
    drop.addEventListener(name, function () { drop.classList.remove("dragging"); });
  });
  drop.addEventListener("drop", function (event) {
    event.preventDefault();
    if (event.dataTransfer && event.dataTransfer.files.length) { input.files = event.dataTransfer.files; }
  });
})();
