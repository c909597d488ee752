// Makes the row editors (`[data-rows]`, see `desk/rows.rs`) nicer: buttons to move a row up or
// down (the order numbers follow), and a button that adds another blank row. Without this
// script the same is done with the order numbers and the blank rows the page already has.
(function () {
  function renumber(list) {
    var n = 0;
    list.querySelectorAll("[data-row]").forEach(function (row) {
      var order = row.querySelector("[data-order] input");
      n += 1;
      if (order) order.value = n.toLocaleString("fa-IR", { useGrouping: false });
    });
  }
  // A button whose name is its visible text, then (for screen readers) which row or list.
  function button(text, which, onClick) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "button secondary small";
    b.textContent = text;
    var hidden = document.createElement("span");
    hidden.className = "visually-hidden";
    hidden.textContent = "، " + which;
    b.appendChild(hidden);
    b.addEventListener("click", onClick);
    return b;
  }
  function rowName(row) {
    var legend = row.querySelector("legend");
    return legend ? legend.textContent.trim() : "";
  }
  function addMoves(list, row) {
    var box = document.createElement("div");
    box.className = "row-moves";
    box.appendChild(button("↑ بالاتر", rowName(row), function () {
      var prev = row.previousElementSibling;
      if (prev && prev.matches("[data-row]")) { list.insertBefore(row, prev); renumber(list); this.focus(); }
    }));
    box.appendChild(button("↓ پایین‌تر", rowName(row), function () {
      var next = row.nextElementSibling;
      if (next && next.matches("[data-row]")) { list.insertBefore(next, row); renumber(list); this.focus(); }
    }));
    row.querySelector(".row-fields").appendChild(box);
  }
  // Settings that apply to some field types only are hidden for the others.
  function fitKind(row) {
    var kind = row.querySelector("select[name$=':kind']");
    if (!kind) return;
    row.querySelectorAll("[data-only]").forEach(function (field) {
      field.hidden = field.getAttribute("data-only").split(" ").indexOf(kind.value) < 0;
    });
  }
  // Editing a workflow's tables means the service's own workflow, not the standard one.
  document.addEventListener("input", function (event) {
    var own = document.getElementById("wf-own");
    if (own && event.target.closest && event.target.closest("[data-rows=states], [data-rows=actions]")) own.checked = true;
  });
  document.addEventListener("change", function (event) {
    var row = event.target.closest && event.target.closest("[data-row]");
    if (row && /:kind$/.test(event.target.name || "")) fitKind(row);
  });
  document.querySelectorAll("[data-rows]").forEach(function (list) {
    var name = list.getAttribute("data-rows");
    var rows = list.querySelectorAll("[data-row]");
    rows.forEach(function (row) { addMoves(list, row); fitKind(row); });
    var blank = list.querySelector("[data-blank]");
    if (!blank) return;
    var template = blank.cloneNode(true);
    var add = button("+ افزودن ردیف", (list.querySelector("legend") || {}).textContent, function () {
      // The next free index (the server takes indexes below 500).
      var index = 0;
      list.querySelectorAll("[name^='row:" + name + ":']").forEach(function (el) {
        index = Math.max(index, parseInt(el.name.split(":")[2], 10) + 1);
      });
      var row = template.cloneNode(true);
      row.querySelectorAll("[name], [id], label[for]").forEach(function (el) {
        ["name", "id", "for"].forEach(function (attr) {
          var v = el.getAttribute(attr);
          if (v) el.setAttribute(attr, v.replace(new RegExp("^(row:|r-)" + name + "([:-])\\d+"), "$1" + name + "$2" + index));
        });
      });
      row.querySelectorAll("input[type=text]").forEach(function (i) { i.value = ""; });
      row.querySelector(".row-moves") && row.querySelector(".row-moves").remove();
      list.insertBefore(row, add);
      addMoves(list, row);
      fitKind(row);
      renumber(list);
      var first = row.querySelector("input, select");
      if (first) first.focus();
    });
    list.appendChild(add);
  });
})();
