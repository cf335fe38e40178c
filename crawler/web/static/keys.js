// Keyboard shortcuts, progressive enhancement only (every action is also a plain link):
// "/" focuses the search box; j/k move through search hits and Enter opens one;
// "[" and "]" follow the page's rel=prev / rel=next links (diff versions, result pages).
(function () {
  "use strict";
  var sel = -1;
  function typing(el) {
    return el && (el.tagName === "INPUT" || el.tagName === "TEXTAREA" || el.tagName === "SELECT" || el.isContentEditable);
  }
  function hits() { return Array.prototype.slice.call(document.querySelectorAll(".hit")); }
  function move(step) {
    var all = hits();
    if (!all.length) { return; }
    if (sel >= 0 && all[sel]) { all[sel].classList.remove("sel"); }
    sel = Math.max(0, Math.min(all.length - 1, sel + step));
    all[sel].classList.add("sel");
    all[sel].scrollIntoView({ block: "nearest" });
    var link = all[sel].querySelector("a");
    if (link) { link.focus({ preventScroll: true }); }
  }
  function follow(rel) {
    var a = document.querySelector('a[rel="' + rel + '"]');
    if (a) { window.location.href = a.href; }
  }
  document.addEventListener("keydown", function (ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey || typing(ev.target)) { return; }
    if (ev.key === "/") { var q = document.getElementById("q"); if (q) { ev.preventDefault(); q.focus(); q.select(); } }
    else if (ev.key === "j") { move(1); }
    else if (ev.key === "k") { move(-1); }
    else if (ev.key === "[") { follow("prev"); }
    else if (ev.key === "]") { follow("next"); }
  });
})();
