/* Accessibility repairs for Dash 4.4 core components whose markup cannot be set
   from Python (checked by axe-core in tests/e2e; drop a repair once Dash fixes it).
   - DatePickerRange/Single: the wrapper <div> carries aria-expanded/aria-haspopup
     (not allowed without a role): move them to the date inputs as the WAI-ARIA
     date picker combobox pattern does; the clear "x" is an <a> without href, so
     give it a button role, a tab stop and Enter/Space.
   - Upload: the hidden file input has no label: name it after the drop zone's text. */
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

  function repair() {
    document.querySelectorAll(".dash-datepicker-input-wrapper").forEach(repairDatePicker);
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
