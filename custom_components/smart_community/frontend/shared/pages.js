// Newest-first pages behind the hub's cursor (the access log and the audit log): a list's state
// { before, next, stack } (the cursor of this page, the one the hub gave for the next older page, and the cursors of
// the newer pages), its pager (buttons `${prefix}-newer` and `${prefix}-older`) and the moves between pages.

import { h } from "./html.js";

export function pagerHtml(prefix, pages) {
  return h`<div class="pager">
        <span class="muted">Page ${pages.stack.length + 1} · newest first</span>
        <div class="row">
          <button type="button" class="btn secondary" data-testid="${prefix}-newer" data-action="${prefix}-newer" ${pages.stack.length ? "" : "disabled"}>← Newer</button>
          <button type="button" class="btn secondary" data-testid="${prefix}-older" data-action="${prefix}-older" ${pages.next === null || pages.next === undefined ? "disabled" : ""}>Older →</button>
        </div>
      </div>`;
}

// Move to the next older page; false when this is the oldest.
export function olderPage(pages) {
  if (pages.next === null || pages.next === undefined) return false;
  pages.stack.push(pages.before);
  pages.before = pages.next;
  return true;
}

// Move to the next newer page; false when this is the newest.
export function newerPage(pages) {
  if (!pages.stack.length) return false;
  pages.before = pages.stack.pop();
  return true;
}

// While a page loads, its pager's buttons are disabled (the next render sets them again).
export function disablePager(root, prefix) {
  root.querySelectorAll(`[data-testid="${prefix}-older"], [data-testid="${prefix}-newer"]`).forEach((b) => {
    b.disabled = true;
  });
}
