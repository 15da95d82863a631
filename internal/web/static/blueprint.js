// blueprint.js: in the blueprint editor, "Add mapping" and "Remove" change
// the rows in place and "Preview" shows the payload without reloading.
// Without JavaScript the same buttons post the form and the server answers
// with the editor again, unsaved edits kept.
(function () {
  "use strict";
  var form;

  // renumber keeps each event's mapping inputs named m.0, m.1… in order,
  // since the server reads them until the first missing index.
  function renumber(fieldset) {
    var i = fieldset.getAttribute("data-index");
    var rows = fieldset.querySelectorAll("tr.bp-map");
    for (var j = 0; j < rows.length; j++) {
      var parts = ["source", "target", "else"];
      for (var k = 0; k < parts.length; k++) {
        var input = rows[j].querySelector("input[name$='." + parts[k] + "']");
        var label = rows[j].querySelector("label[for='" + (input ? input.id : "") + "']");
        if (!input) continue;
        input.name = "ev." + i + ".m." + j + "." + parts[k];
        input.id = "ev" + i + "-m" + j + "-" + parts[k];
        if (label) {
          label.htmlFor = input.id;
          label.textContent = parts[k].charAt(0).toUpperCase() + parts[k].slice(1) + " " + (j + 1);
        }
      }
      var rm = rows[j].querySelector(".bp-remove");
      if (rm) rm.value = "remove:" + i + ":" + j;
    }
  }

  function addRow(fieldset) {
    var tbody = fieldset.querySelector(".bp-maps tbody");
    var rows = tbody.querySelectorAll("tr.bp-map");
    if (!rows.length) return false;
    var row = rows[rows.length - 1].cloneNode(true);
    var inputs = row.querySelectorAll("input");
    for (var k = 0; k < inputs.length; k++) { inputs[k].value = ""; inputs[k].removeAttribute("aria-invalid"); }
    tbody.appendChild(row);
    renumber(fieldset);
    row.querySelector("input").focus();
    return true;
  }

  function removeRow(button) {
    var row = button.closest("tr.bp-map");
    var fieldset = button.closest("fieldset");
    var next = row.nextElementSibling;
    if (next && next.classList.contains("bp-map-error")) next.remove();
    row.remove();
    renumber(fieldset);
    var add = fieldset.querySelector(".bp-addmap");
    if (add) add.focus();
  }

  function show(id, text) {
    var el = document.getElementById(id);
    if (el) el.textContent = text || "";
  }

  function preview(button) {
    var data = new FormData(form);
    data.set("action", "preview");
    var errEl = document.getElementById("preview-error");
    var resEl = document.getElementById("preview-result");
    button.disabled = true;
    // getAttribute: the form has buttons named "action", which shadow form.action.
    fetch(form.getAttribute("action"), {
      method: "POST", body: new URLSearchParams(data), credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(function (r) { return r.json(); }).then(function (out) {
      if (out.error) {
        errEl.textContent = out.error; errEl.hidden = false; resEl.hidden = true;
        return;
      }
      errEl.hidden = true; resEl.hidden = false;
      show("preview-status", out.status);
      show("preview-reason", out.reason_text);
      show("preview-vendor", out.vendor_event_name);
      show("preview-payload", out.payload);
    }).catch(function () {
      errEl.textContent = "The preview could not be fetched. Try again."; errEl.hidden = false;
    }).then(function () { button.disabled = false; });
  }

  document.addEventListener("DOMContentLoaded", function () {
    form = document.getElementById("bp-form");
    if (!form) return;
    form.addEventListener("click", function (e) {
      var b = e.target.closest("button[name=action]");
      if (!b) return;
      if (b.value.indexOf("addmap:") === 0) {
        if (addRow(b.closest("fieldset"))) e.preventDefault();
      } else if (b.value.indexOf("remove:") === 0) {
        e.preventDefault();
        removeRow(b);
      } else if (b.value === "preview" && window.fetch) {
        e.preventDefault();
        preview(b);
      }
    });
  });
})();
