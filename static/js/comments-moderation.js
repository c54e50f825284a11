// The moderators' queue from the keyboard: j / k move between comments, x ticks the current one,
// a approves it, r removes it (with the reason typed in the form). Keys are ignored while typing in a field.
(function () {
  "use strict";
  var form = document.querySelector("[data-queue]");
  if (!form) { return; }
  var items = Array.prototype.slice.call(form.querySelectorAll("[data-queue-item]"));
  var current = -1;

  function focusItem(index) {
    if (!items.length) { return; }
    current = Math.max(0, Math.min(items.length - 1, index));
    items[current].focus();
    items[current].scrollIntoView({ block: "nearest" });
  }

  items.forEach(function (item, index) {
    item.addEventListener("focusin", function () { current = index; });
  });

  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.altKey || event.ctrlKey || event.metaKey) { return; }
    if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) { return; }
    var item = items[current];
    if (event.key === "j") { focusItem(current + 1); event.preventDefault(); }
    else if (event.key === "k") { focusItem(current - 1); event.preventDefault(); }
    else if (item && event.key === "x") {
      var box = item.querySelector("input[type=checkbox]");
      if (box) { box.checked = !box.checked; event.preventDefault(); }
    } else if (item && (event.key === "a" || event.key === "r")) {
      var button = item.querySelector("button[data-key='" + event.key + "']");
      if (button) { button.click(); event.preventDefault(); }
    }
  });
})();
