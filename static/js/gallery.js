// Left and right arrow keys move between the images of a gallery; the links under each image do the same.
(function () {
  "use strict";
  var gallery = document.querySelector("[data-gallery]");
  if (!gallery) return;
  var items = Array.prototype.slice.call(gallery.children);
  function current() {
    var id = window.location.hash.slice(1);
    var index = items.findIndex(function (item) { return item.id === id; });
    return index < 0 ? 0 : index;
  }
  function go(index) {
    if (index < 0 || index >= items.length) return;
    var item = items[index];
    history.replaceState(null, "", "#" + item.id);
    item.scrollIntoView({ block: "start" });
    item.querySelector("figure").focus({ preventScroll: true });
  }
  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    var tag = (event.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "textarea" || tag === "select") return;
    if (event.key === "ArrowRight") { event.preventDefault(); go(current() + 1); }
    if (event.key === "ArrowLeft") { event.preventDefault(); go(current() - 1); }
  });
})();
