/* Cell renderers for dash-ag-grid (looked up by name from columnDefs). */
var dagcomponentfuncs = (window.dashAgGridComponentFunctions =
  window.dashAgGridComponentFunctions || {});

var IB_SEVERITY_ICONS = {
  low: "bi-circle-fill",
  medium: "bi-diamond-fill",
  high: "bi-triangle-fill",
  critical: "bi-star-fill",
};

/* Severity: icon shape + colour + word, the same encoding as the chart markers. */
dagcomponentfuncs.SeverityBadge = function (props) {
  var name = String(props.value || "low");
  var known = IB_SEVERITY_ICONS[name] ? name : "low";
  return React.createElement(
    "span",
    { className: "ib-severity ib-severity-" + known },
    React.createElement("i", {
      className: "bi " + IB_SEVERITY_ICONS[known] + " me-1",
      "aria-hidden": "true",
    }),
    name.charAt(0).toUpperCase() + name.slice(1)
  );
};
