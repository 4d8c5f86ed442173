/* Sheet uploads with a progress bar: the form is sent by XMLHttpRequest so the browser reports
   how much of the file has gone (upload "progress" events); the answer (the same page with the
   result or the row errors) replaces the page's main content. Without script the form posts
   as usual. */
(function () {
  "use strict";
  if (!window.XMLHttpRequest || !window.FormData || !window.DOMParser) { return; }
  var form, box, bar, status, button;

  function show(percent) {
    bar.value = percent;
    status.textContent = form.getAttribute("data-sending") + " " + percent + " %";
  }

  function replace(html) {
    var answer = new DOMParser().parseFromString(html, "text/html");
    var main = answer.getElementById("main");
    if (!main) { document.open(); document.write(html); document.close(); return; }
    document.getElementById("main").innerHTML = main.innerHTML;
    document.title = answer.title;
    var result = document.getElementById("upload-result");
    if (result) { result.focus(); }
    init();
  }

  function send(event) {
    event.preventDefault();
    var request = new XMLHttpRequest();
    request.open("POST", form.getAttribute("action"));
    request.setRequestHeader("Accept", "text/html");
    box.hidden = false;
    button.disabled = true;
    show(0);
    request.upload.addEventListener("progress", function (e) {
      if (e.lengthComputable) { show(Math.round(100 * e.loaded / e.total)); }
    });
    request.addEventListener("load", function () { replace(request.responseText); });
    request.addEventListener("error", function () {
      status.textContent = form.getAttribute("data-failed");
      button.disabled = false;
    });
    request.send(new FormData(form));
  }

  function init() {
    form = document.getElementById("upload-form");
    if (!form) { return; }
    box = document.getElementById("upload-progress-box");
    bar = document.getElementById("upload-progress");
    status = document.getElementById("upload-status");
    button = document.getElementById("upload-submit");
    form.addEventListener("submit", send);
  }

  init();
}());
