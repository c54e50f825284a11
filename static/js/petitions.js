// Petition pages: a "Copy link" button beside the share address (the address stays selectable without script).
(function () {
  "use strict";
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    var field = document.querySelector(button.getAttribute("data-copy"));
    if (!field || !navigator.clipboard) {
      return;
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(field.value).then(function () {
        button.textContent = button.getAttribute("data-copied") || "Copied";
      });
    });
  });
})();

// Organiser pages that follow a job (a mailing going out, an invalidation job): ask `url` for its figures once a
// second; `show` puts them on the page and says whether to ask again. A failed request is tried again in 5 s.
function vigilFollow(url, show) {
  "use strict";
  function tick() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error(String(response.status));
        }
        return response.json();
      })
      .then(function (figures) {
        if (show(figures)) {
          window.setTimeout(tick, 1000);
        }
      })
      .catch(function () {
        window.setTimeout(tick, 5000);
      });
  }
  window.setTimeout(tick, 1000);
}

// An update's mailing, on its organiser page: the figures follow the mailing while it goes out, until every
// message is finished (the page shows the same figures without script, as of its loading).
(function () {
  "use strict";
  document.querySelectorAll("[data-mailing-url]").forEach(function (box) {
    if (box.getAttribute("data-finished") === "true") {
      return;
    }
    vigilFollow(box.getAttribute("data-mailing-url"), function (report) {
      var bar = box.querySelector("progress");
      if (bar) {
        bar.max = Math.max(report.audience, 1);
        bar.value = report.sent + report.withheld + report.failed;
      }
      ["queued", "sent", "withheld", "failed", "waiting", "unsubscribed"].forEach(function (name) {
        var cell = box.querySelector("[data-figure=" + name + "]");
        if (cell) {
          cell.textContent = Number(report[name]).toLocaleString();
        }
      });
      if (report.finished) {
        var status = box.querySelector("[data-mailing-status]");
        if (status) {
          status.textContent = status.getAttribute("data-finished-text");
        }
        box.setAttribute("data-finished", "true");
      }
      return !report.finished;
    });
  });
})();

// An invalidation job, on its organiser page: the figures follow the job while it runs or is reversed; when it
// ends the page is loaded again for the buttons that now apply (without script: reload by hand).
(function () {
  "use strict";
  document.querySelectorAll("[data-job-url]").forEach(function (box) {
    if (box.getAttribute("data-active") !== "true") {
      return;
    }
    vigilFollow(box.getAttribute("data-job-url"), function (job) {
      ["state_label", "matched", "set_aside", "restored"].forEach(function (name) {
        var cell = box.querySelector("[data-figure=" + name + "]");
        if (cell) {
          cell.textContent = typeof job[name] === "number" ? job[name].toLocaleString() : job[name];
        }
      });
      var bar = box.querySelector("progress");
      if (bar) {
        bar.max = Math.max(job.matched, 1);
        bar.value = job.state === "reversing" ? job.restored : job.set_aside;
      }
      if (!job.active) {
        window.location.reload();
      }
      return job.active;
    });
  });
})();
