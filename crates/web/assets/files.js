// Shows the name of the file chosen in a styled file picker (`.file-picker`): the native
// control is hidden behind a Persian button, so its own "no file chosen" text is not seen.
document.addEventListener("change", function (event) {
  var input = event.target;
  if (!input || input.type !== "file") return;
  var picker = input.closest(".file-picker");
  var shown = picker && picker.querySelector("[data-file-name]");
  if (!shown) return;
  var names = Array.prototype.map.call(input.files || [], function (f) { return f.name; });
  if (names.length) shown.textContent = names.join("، ");
});
