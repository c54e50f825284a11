// Progress of long jobs (packet exports, letter compiles) without reloading the page: each [data-progress-url]
// element asks its JSON endpoint once a second until the job is done, failed or expired.
(function () {
  "use strict";
  var FINISHED = { done: true, failed: true, expired: true };

  function watch(box) {
    var url = box.getAttribute("data-progress-url");
    var bar = box.querySelector(".job-progress__bar");
    var text = box.querySelector(".job-progress__text");
    var link = box.querySelector(".job-progress__download");
    if (!url || FINISHED[box.getAttribute("data-state")]) {
      return;
    }
    function tick() {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok) {
            throw new Error(String(response.status));
          }
          return response.json();
        })
        .then(function (job) {
          box.setAttribute("data-state", job.state);
          bar.max = Math.max(job.total, 1);
          bar.value = job.state === "done" ? bar.max : job.done;
          if (job.state === "done") {
            text.textContent = "Ready";
            if (link && job.download) {
              link.href = job.download;
              link.hidden = false;
            }
          } else if (job.state === "failed") {
            text.textContent = "Failed: " + job.error;
          } else {
            text.textContent = job.done.toLocaleString() + " of " + job.total.toLocaleString();
          }
          if (!FINISHED[job.state]) {
            window.setTimeout(tick, 1000);
          }
        })
        .catch(function () {
          window.setTimeout(tick, 5000);
        });
    }
    window.setTimeout(tick, 1000);
  }

  document.querySelectorAll("[data-progress-url]").forEach(watch);
})();
