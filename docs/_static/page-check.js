// Marks <html> once every image of the page has loaded (data-images-loaded="all", or "broken" with the
// failing sources in data-images-broken) and once MathJax has typeset (data-math="done"), so a headless
// browser's DOM dump can tell that a page rendered (tests/test_docs.py).
(function () {
  "use strict";
  function check() {
    var root = document.documentElement;
    var imgs = Array.prototype.slice.call(document.images);
    root.dataset.imagesCount = String(imgs.length);
    var probes = imgs.map(function (img) {
      return new Promise(function (resolve) {
        var probe = new Image();
        probe.onload = function () { resolve(probe.naturalWidth > 0 ? null : img.src); };
        probe.onerror = function () { resolve(img.getAttribute("src")); };
        probe.src = img.currentSrc || img.src;
      });
    });
    Promise.all(probes).then(function (results) {
      var broken = results.filter(function (r) { return r !== null; });
      root.dataset.imagesBroken = broken.join(" ");
      root.dataset.imagesLoaded = imgs.length === 0 ? "none" : (broken.length ? "broken" : "all");
    });
    if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
      MathJax.startup.promise.then(function () {
        root.dataset.math = document.querySelector("mjx-container") ? "done" : "none";
      });
    } else {
      root.dataset.math = "absent";
    }
  }
  if (document.readyState === "complete") { check(); } else { window.addEventListener("load", check); }
})();
