/* Accessibility repairs for Dash 4.4 core components whose markup cannot be set
   from Python (checked by axe-core in tests/e2e; drop a repair once Dash fixes it).
   - DatePickerRange/Single: the wrapper <div> carries aria-expanded/aria-haspopup
     (not allowed without a role): move them to the date inputs as the WAI-ARIA
     date picker combobox pattern does; the clear "x" is an <a> without href, so
     give it a button role, a tab stop and Enter/Space.
   - Upload: the hidden file input has no label: name it after the drop zone's text.
   - Dropdown: its Tab stop is an aria-hidden dummy input (axe: aria-hidden-focus)
     and its button's name leaves out the field's <label>: make the dummy inert,
     the button itself the Tab stop, and add the label to the button's name.
     (The open list still nests checkboxes in options: pages use checkboxes,
     components.widgets.checklist_field, for multiple choices.) */
(function () {
  "use strict";
  var POPUP_ATTRIBUTES = ["aria-expanded", "aria-haspopup", "aria-controls"];

  function repairDatePicker(wrapper) {
    var inputs = wrapper.querySelectorAll("input.dash-datepicker-input");
    POPUP_ATTRIBUTES.forEach(function (name) {
      if (!wrapper.hasAttribute(name)) {
        return;
      }
      var value = wrapper.getAttribute(name);
      wrapper.removeAttribute(name);
      inputs.forEach(function (input) {
        input.setAttribute(name, value);
      });
    });
    inputs.forEach(function (input) {
      input.setAttribute("role", "combobox");
    });
    wrapper.setAttribute("role", "group");
    var clear = wrapper.querySelector(".dash-datepicker-clear:not([role])");
    if (clear) {
      clear.setAttribute("role", "button");
      clear.setAttribute("tabindex", "0");
      clear.addEventListener("keydown", function (event) {
        if (event.key === "Enter" || event.key === " ") {
          event.preventDefault();
          clear.click();
        }
      });
    }
  }

  function labelUpload(input) {
    var zone = input.parentElement;
    var text = zone ? zone.textContent.replace(/\s+/g, " ").trim() : "";
    input.setAttribute("aria-label", text || "Choose a file to upload");
  }

  function repairDropdown(button) {
    var dummy = button.previousElementSibling;
    if (dummy && dummy.classList.contains("dash-dropdown-focus-target")) {
      dummy.inert = true;
      button.tabIndex = 0;
    }
    // Pattern-matching ids are JSON: compare htmlFor instead of a CSS selector.
    var label = button.id
      ? Array.prototype.find.call(document.getElementsByTagName("label"), function (l) {
          return l.htmlFor === button.id;
        })
      : null;
    if (label && !button.dataset.ibLabelled) {
      label.id = label.id || button.id + "-label";
      var names = button.getAttribute("aria-labelledby") || "";
      button.setAttribute("aria-labelledby", (label.id + " " + names).trim());
      button.dataset.ibLabelled = "1";
    }
  }

  function repair() {
    document.querySelectorAll(".dash-datepicker-input-wrapper").forEach(repairDatePicker);
    document.querySelectorAll("button.dash-dropdown").forEach(repairDropdown);
    document.querySelectorAll("input[type=file]:not([aria-label])").forEach(labelUpload);
  }

  new MutationObserver(repair).observe(document.documentElement, {
    subtree: true,
    childList: true,
    attributes: true,
    attributeFilter: POPUP_ATTRIBUTES,
  });
  repair();
})();
