// Flags are decoration. Where no font can draw flag emoji they come out as two empty boxes,
// so the page hides them (names always stand beside them).
(function () {
  "use strict";

  function flagsDrawn() {
    const canvas = document.createElement("canvas");
    canvas.width = canvas.height = 24;
    const context = canvas.getContext("2d", { willReadFrequently: true });
    if (!context) return false;
    context.textBaseline = "top";
    context.font = "20px sans-serif";
    context.fillText("\u{1F1F3}\u{1F1F1}", 0, 0);
    const pixels = context.getImageData(0, 0, 24, 24).data;
    for (let i = 0; i < pixels.length; i += 4) {
      // A drawn flag has colour; missing-glyph boxes are black or grey.
      if (pixels[i + 3] && (pixels[i] !== pixels[i + 1] || pixels[i + 1] !== pixels[i + 2])) {
        return true;
      }
    }
    return false;
  }

  if (!flagsDrawn()) document.documentElement.classList.add("no-flag-emoji");
})();
