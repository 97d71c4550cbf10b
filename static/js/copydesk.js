/* Copydesk: small progressive enhancements on server-rendered pages.
   Every action also works as a plain form post; this file adds keyboard
   shortcuts on the review board, inline editing and confirmations. */
(function () {
  "use strict";

  // Forms with data-confirm ask before they submit (deletes).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
    }
  });

  // ---------------------------------------------------------------- review board
  function cards() {
    return Array.prototype.slice.call(document.querySelectorAll("article.candidate"));
  }

  var currentId = null;

  function currentCard() {
    var focused = document.activeElement && document.activeElement.closest
      ? document.activeElement.closest("article.candidate")
      : null;
    if (focused) return focused;
    if (currentId) {
      var found = document.querySelector('article.candidate[data-id="' + currentId + '"]');
      if (found) return found;
    }
    return null;
  }

  function setCurrent(card, focus) {
    cards().forEach(function (c) { c.classList.remove("is-current"); });
    if (!card) return;
    card.classList.add("is-current");
    currentId = card.dataset.id;
    if (focus !== false) {
      card.focus({ preventScroll: true });
      card.scrollIntoView({ block: "nearest", behavior: "smooth" });
    }
  }

  function move(step) {
    var list = cards();
    if (!list.length) return;
    var index = list.indexOf(currentCard());
    var next = index < 0 ? 0 : Math.min(list.length - 1, Math.max(0, index + step));
    setCurrent(list[next]);
  }

  function openEditor(card) {
    var form = card.querySelector(".edit-form");
    if (!form) return;
    form.hidden = false;
    var toggle = card.querySelector("[data-edit-toggle]");
    if (toggle) toggle.setAttribute("aria-expanded", "true");
    var area = form.querySelector("textarea");
    if (area) {
      area.focus();
      area.setSelectionRange(area.value.length, area.value.length);
    }
  }

  function closeEditor(card) {
    var form = card.querySelector(".edit-form");
    if (!form) return;
    form.hidden = true;
    var toggle = card.querySelector("[data-edit-toggle]");
    if (toggle) toggle.setAttribute("aria-expanded", "false");
    setCurrent(card);
  }

  document.addEventListener("click", function (event) {
    var toggle = event.target.closest("[data-edit-toggle]");
    if (toggle) {
      var card = toggle.closest("article.candidate");
      var form = card.querySelector(".edit-form");
      if (form.hidden) openEditor(card); else closeEditor(card);
      return;
    }
    var cancel = event.target.closest("[data-edit-cancel]");
    if (cancel) {
      closeEditor(cancel.closest("article.candidate"));
      return;
    }
    var card2 = event.target.closest("article.candidate");
    if (card2) setCurrent(card2, false);
    var all = event.target.closest("[data-select-all]");
    if (all) {
      document.querySelectorAll("input[data-select]").forEach(function (box) {
        box.checked = all.checked;
      });
    }
    var help = event.target.closest("[data-shortcuts-open]");
    if (help) showHelp();
  });

  function showHelp() {
    var dialog = document.getElementById("shortcuts");
    if (dialog && !dialog.open) dialog.showModal();
  }

  function clickIn(card, selector) {
    var button = card && card.querySelector(selector);
    if (button && !button.disabled) button.click();
    return !!button;
  }

  document.addEventListener("keydown", function (event) {
    if (!document.body.classList.contains("page-review")) return;
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    var typing = target.closest && target.closest("input, textarea, select, [contenteditable]");
    if (typing) {
      // Escape leaves the inline editor; Ctrl+Enter is left to the browser.
      if (event.key === "Escape" && target.closest(".edit-form")) {
        event.preventDefault();
        closeEditor(target.closest("article.candidate"));
      }
      return;
    }
    var dialog = document.getElementById("shortcuts");
    if (dialog && dialog.open) return;
    var card = currentCard();
    var key = event.key;
    var handled = true;
    if (key === "j") move(1);
    else if (key === "k") move(-1);
    else if (key === "?") showHelp();
    else if (!card) handled = false;
    else if (/^[1-5]$/.test(key)) clickIn(card, '.stars button[value="' + key + '"]');
    else if (key === "a") clickIn(card, "button[data-decide=approve]");
    else if (key === "r") clickIn(card, "button[data-decide=reject]");
    else if (key === "e") openEditor(card);
    else if (key === "m") clickIn(card, "button[data-more]");
    else if (key === "x") {
      var box = card.querySelector("input[data-select]");
      if (box) box.checked = !box.checked;
    } else handled = false;
    if (handled) event.preventDefault();
  });

  // After htmx replaces a card, keep the keyboard position on the new one.
  document.addEventListener("htmx:afterSwap", function (event) {
    var card = event.detail.elt;
    if (card && card.matches && card.matches("article.candidate") && card.dataset.id === currentId) {
      setCurrent(card);
    }
  });
  document.addEventListener("htmx:beforeSwap", function (event) {
    // Show form errors (400) in place instead of dropping them.
    if (event.detail.xhr.status === 400) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
})();
