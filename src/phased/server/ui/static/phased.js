// phased dashboard: the confirmation step of every change, in a <dialog>.
// Forms that change something carry data-confirm="question with {field} names".
// Without this script the server asks on a confirmation page of its own, so
// nothing here is needed for correctness — only for comfort.
(function () {
  "use strict";
  var dialog = document.getElementById("confirm-dialog");
  if (!dialog || typeof dialog.showModal !== "function") {
    return;
  }
  var text = dialog.querySelector("[data-confirm-text]");
  var preview = dialog.querySelector("[data-confirm-preview]");

  function question(form) {
    return form.dataset.confirm.replace(/\{(\w+)\}/g, function (whole, name) {
      var field = form.elements.namedItem(name);
      if (!field) {
        return whole;
      }
      if (field.tagName === "SELECT") {
        return field.options[field.selectedIndex].text;
      }
      return field.value || "(empty)";
    });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.dataset.confirm) {
      return;
    }
    var confirmed = form.elements.namedItem("confirm");
    if (!confirmed || confirmed.value === "yes") {
      return;
    }
    event.preventDefault();
    var submitter = event.submitter || null;
    text.textContent = question(form);
    preview.replaceChildren();
    if (form.dataset.preview === "server") {
      // Ask the server's own confirmation page who gains and loses. When a
      // running plan controls the flag, that page (with its "force" box) is
      // the confirmation: go there instead of the dialog.
      window.fetch(form.action, { method: "POST", body: new FormData(form), credentials: "same-origin" })
        .then(function (response) { return response.text(); })
        .then(function (html) {
          var doc = new DOMParser().parseFromString(html, "text/html");
          if (doc.querySelector('[data-testid="confirm-drift"]')) {
            form.dataset.confirm = "";
            form.submit();
            return;
          }
          var audience = doc.querySelector('[data-testid="confirm-audience"]');
          if (audience) {
            preview.appendChild(document.importNode(audience, true));
          }
          ask(form, confirmed, submitter);
        })
        .catch(function () { ask(form, confirmed, submitter); });
      return;
    }
    ask(form, confirmed, submitter);
  });

  function ask(form, confirmed, submitter) {
    dialog.returnValue = "";
    dialog.onclose = function () {
      dialog.onclose = null;
      if (dialog.returnValue !== "confirm") {
        return;
      }
      confirmed.value = "yes";
      if (submitter) {
        form.requestSubmit(submitter);
      } else {
        form.requestSubmit();
      }
    };
    dialog.showModal();
  }

  // "Refresh every 10 s" on a running rollout: remembered per browser, and
  // skipped while someone is typing or a confirmation is open.
  var auto = document.querySelector("[data-autorefresh]");
  if (auto) {
    auto.checked = window.localStorage.getItem("phased-autorefresh") === "on";
    auto.addEventListener("change", function () {
      window.localStorage.setItem("phased-autorefresh", auto.checked ? "on" : "off");
    });
    window.setInterval(function () {
      var busy = dialog.open || (document.activeElement && document.activeElement.form);
      if (auto.checked && !busy) {
        window.location.reload();
      }
    }, 10000);
  }

  // A page restored from the back/forward cache must ask again.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll('form[data-confirm] input[name="confirm"]').forEach(function (input) {
      input.value = "";
    });
  });
})();

// The sign-off sheet's Print button (no inline handlers: the CSP forbids them).
document.addEventListener("click", function (event) {
  var target = event.target;
  if (target instanceof HTMLElement && target.hasAttribute("data-print")) {
    window.print();
  }
});
