// Click a column header of a table.sortable to sort by it (again to reverse).
// Cells may carry data-sort (a number or ISO date) to sort on instead of their text.
document.querySelectorAll("table.sortable").forEach(function (table) {
  table.querySelectorAll("thead th").forEach(function (th, col) {
    th.addEventListener("click", function () {
      var body = table.tBodies[0];
      var asc = th.getAttribute("aria-sort") !== "ascending";
      table.querySelectorAll("thead th").forEach(function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", asc ? "ascending" : "descending");
      var key = function (row) {
        var cell = row.cells[col];
        var raw = cell.hasAttribute("data-sort") ? cell.getAttribute("data-sort") : cell.textContent.trim();
        return /^-?\d+(\.\d+)?(e[-+]?\d+)?$/i.test(raw) ? Number(raw) : raw.toLowerCase();
      };
      Array.from(body.rows)
        .sort(function (a, b) {
          var ka = key(a), kb = key(b);
          var cmp = typeof ka === typeof kb ? (ka < kb ? -1 : ka > kb ? 1 : 0) : (typeof ka === "number" ? -1 : 1);
          return asc ? cmp : -cmp;
        })
        .forEach(function (row) { body.appendChild(row); });
    });
  });
});
