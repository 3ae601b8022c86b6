// Cadence's own script: no inline script anywhere (the CSP forbids it), so page behaviour is
// declared with data attributes and wired here.
(function () {
  "use strict";

  function csrfToken() {
    return document.body.dataset.csrfToken || "";
  }

  // Every HTMX request carries the CSRF token, as Django's forms do.
  document.addEventListener("htmx:configRequest", function (event) {
    event.detail.headers["X-CSRFToken"] = csrfToken();
  });

  // Lists marked data-sortable="<url>" reorder by drag and drop (or the keyboard buttons inside
  // them); the new order of the children's data-id values is posted at once as "ids".
  function postOrder(list) {
    var ids = Array.prototype.map.call(
      list.querySelectorAll(":scope > [data-id]"),
      function (item) { return item.dataset.id; }
    );
    var body = new URLSearchParams();
    ids.forEach(function (id) { body.append("ids", id); });
    var target = list.dataset.sortableTarget ? document.querySelector(list.dataset.sortableTarget) : list;
    htmx.ajax("POST", list.dataset.sortable, {
      source: list,
      target: target,
      swap: "outerHTML",
      values: { ids: ids },
    });
  }

  function initSortables(root) {
    root = root || document;
    var lists = Array.prototype.slice.call(root.querySelectorAll("[data-sortable]"));
    // A list that is itself swapped in is the event's element, not one of its descendants.
    if (root.matches && root.matches("[data-sortable]")) { lists.push(root); }
    lists.forEach(function (list) {
      if (list.dataset.sortableReady || typeof Sortable === "undefined") { return; }
      list.dataset.sortableReady = "1";
      Sortable.create(list, {
        handle: "[data-drag-handle]",
        draggable: "[data-id]",
        animation: 150,
        onEnd: function (event) {
          if (event.oldIndex !== event.newIndex) { postOrder(list); }
        },
      });
    });
  }

  // Keyboard users move an item with its "Move up" / "Move down" buttons.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-move]");
    if (!button) { return; }
    var item = button.closest("[data-id]");
    var list = item && item.parentElement;
    if (!list || !list.dataset.sortable) { return; }
    event.preventDefault();
    if (button.dataset.move === "up" && item.previousElementSibling) {
      list.insertBefore(item, item.previousElementSibling);
    } else if (button.dataset.move === "down" && item.nextElementSibling) {
      list.insertBefore(item.nextElementSibling, item);
    } else {
      return;
    }
    postOrder(list);
  });

  // A select or checkbox marked data-autosubmit submits its form when changed.
  document.addEventListener("change", function (event) {
    if (event.target.matches("[data-autosubmit]") && event.target.form) {
      event.target.form.requestSubmit();
    }
  });

  // Copy buttons: data-copy="<selector of the input to copy>".
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) { return; }
    var input = document.querySelector(button.dataset.copy);
    if (input && navigator.clipboard) {
      navigator.clipboard.writeText(input.value);
      button.textContent = "Copied";
    }
  });

  document.addEventListener("DOMContentLoaded", function () { initSortables(document); });
  document.addEventListener("htmx:load", function (event) { initSortables(event.detail.elt); });
})();
