// Suggestions as you type, for every search box marked `data-suggest` (progressive enhancement:
// without JavaScript the box still searches). Titles come from GET /api/v1/suggest and fill the
// box's <datalist>, which browsers and screen readers present as a native list.
(function () {
  "use strict";
  document.querySelectorAll("input[data-suggest]").forEach(function (input) {
    var list = document.getElementById(input.getAttribute("list"));
    var province = input.form && input.form.querySelector("[name=province]");
    if (!list) return;
    var timer = null;
    var last = "";
    var controller = null;
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var q = input.value.trim();
        if (q.length < 2 || q === last) return;
        last = q;
        if (controller) controller.abort();
        controller = new AbortController();
        var url = "/api/v1/suggest?q=" + encodeURIComponent(q);
        if (province && province.value) url += "&province=" + encodeURIComponent(province.value);
        fetch(url, { signal: controller.signal, headers: { Accept: "application/json" } })
          .then(function (r) { return r.ok ? r.json() : { items: [] }; })
          .then(function (body) {
            list.textContent = "";
            body.items.forEach(function (item) {
              var option = document.createElement("option");
              option.value = item.title;
              list.appendChild(option);
            });
          })
          .catch(function () { /* offline or aborted: the box still searches */ });
      }, 150);
    });
  });
})();
