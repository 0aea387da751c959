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

/* Client-side navigation like dcc.Link: no full page reload. */
function ibNavigate(event, href) {
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.button === 1) {
    return; /* let the browser open a new tab */
  }
  event.preventDefault();
  window.history.pushState({}, "", href);
  window.dispatchEvent(new CustomEvent("_dashprivate_pushstate"));
  window.scrollTo(0, 0);
}

/* Dataset name: a real link (works in a new tab), navigates in-app on click. */
dagcomponentfuncs.DatasetLink = function (props) {
  var data = props.data || {};
  return React.createElement(
    "a",
    {
      href: data.href,
      className: "fw-semibold text-decoration-none ib-dataset-link",
      onClick: function (e) { ibNavigate(e, data.href); },
    },
    data.name
  );
};

/* Version picker: a native select (keyboard and touch friendly). */
dagcomponentfuncs.VersionPicker = function (props) {
  var data = props.data || {};
  var versions = data.versions || [];
  return React.createElement(
    "select",
    {
      className: "form-select form-select-sm ib-version-select",
      value: String(props.value),
      "aria-label": "Version of " + data.name,
      onChange: function (e) {
        props.setData({ action: "version", version: Number(e.target.value) });
      },
    },
    versions
      .slice()
      .reverse()
      .map(function (v) {
        var label = "v" + v;
        return React.createElement("option", { key: v, value: String(v) }, label);
      })
  );
};

/* Status: badge with icon; a thin progress bar and rows done while processing.
   Colour, word and icon come with the row (components.widgets.STATUS_STYLES). */
dagcomponentfuncs.StatusCell = function (props) {
  var data = props.data || {};
  var badge = React.createElement(
    "span",
    {
      className: "badge rounded-pill text-bg-" + (data.status_colour || "secondary") + " ib-status",
      title: data.error || "",
    },
    React.createElement("i", {
      className: "bi " + (data.status_icon || "bi-dot") + " me-1",
      "aria-hidden": "true",
    }),
    data.status_text || String(props.value)
  );
  if (props.value !== "processing" && props.value !== "uploaded") {
    if (props.value === "failed" && data.error) {
      return React.createElement(
        "div",
        { className: "ib-status-cell" },
        badge,
        React.createElement("div", { className: "small text-danger text-truncate" }, data.error)
      );
    }
    return badge;
  }
  var total = data.rows_total || 0;
  var percent = total ? Math.round((100 * (data.rows_done || 0)) / total) : 0;
  return React.createElement(
    "div",
    { className: "ib-status-cell" },
    badge,
    React.createElement(
      "div",
      {
        className: "progress mt-1",
        role: "progressbar",
        "aria-label": "Rows processed",
        "aria-valuenow": percent,
        "aria-valuemin": 0,
        "aria-valuemax": 100,
        style: { height: "4px" },
      },
      React.createElement("div", { className: "progress-bar", style: { width: percent + "%" } })
    )
  );
};

/* Row actions: open the analysis, reprocess this version, delete the dataset. */
dagcomponentfuncs.DatasetActions = function (props) {
  var data = props.data || {};
  function send(action) {
    return function () { props.setData({ action: action, version: data.version }); };
  }
  var busy = data.status === "processing" || data.status === "uploaded";
  return React.createElement(
    "div",
    { className: "d-flex gap-1 align-items-center h-100" },
    React.createElement(
      "a",
      {
        href: data.href,
        className: "btn btn-sm btn-outline-primary",
        onClick: function (e) { ibNavigate(e, data.href); },
      },
      "Open"
    ),
    React.createElement(
      "a",
      {
        href: data.kpi_href,
        className: "btn btn-sm btn-outline-secondary ib-kpi-link",
        title: "KPI portal of " + data.name,
        onClick: function (e) { ibNavigate(e, data.kpi_href); },
      },
      "KPIs"
    ),
    React.createElement(
      "button",
      {
        type: "button",
        className: "btn btn-sm btn-outline-secondary ib-reprocess",
        title: "Reprocess v" + data.version,
        "aria-label": "Reprocess " + data.name + " v" + data.version,
        disabled: busy,
        onClick: send("reprocess"),
      },
      React.createElement("i", { className: "bi bi-arrow-clockwise", "aria-hidden": "true" })
    ),
    React.createElement(
      "button",
      {
        type: "button",
        className: "btn btn-sm btn-outline-secondary ib-privacy",
        title: "Agent privacy of " + data.name,
        "aria-label": "Agent privacy of " + data.name,
        onClick: send("privacy"),
      },
      React.createElement("i", { className: "bi bi-shield-lock", "aria-hidden": "true" })
    ),
    React.createElement(
      "button",
      {
        type: "button",
        className: "btn btn-sm btn-outline-danger ib-delete",
        title: "Delete " + data.name,
        "aria-label": "Delete " + data.name,
        onClick: send("delete"),
      },
      React.createElement("i", { className: "bi bi-trash", "aria-hidden": "true" })
    )
  );
};
