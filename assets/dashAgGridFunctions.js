/* Functions referenced from dash-ag-grid column definitions. */
var dagfuncs = (window.dashAgGridFunctions = window.dashAgGridFunctions || {});

/* Let Tab move through the links, selects and buttons inside a cell before the
   grid moves to the next cell (keyboard access to row actions). */
dagfuncs.ibCellTab = function (params) {
  var event = params.event;
  if (event.key !== "Tab") {
    return false;
  }
  var cell = event.target && event.target.closest ? event.target.closest(".ag-cell") : null;
  if (!cell) {
    return false;
  }
  var items = Array.prototype.slice.call(
    cell.querySelectorAll("a[href], button:not([disabled]), select")
  );
  if (!items.length) {
    return false;
  }
  var index = items.indexOf(document.activeElement);
  if (event.shiftKey) {
    return index > 0;
  }
  return index < items.length - 1;
};
