// The Credentials & visitors tab: its layout, and a resident's cards and PIN (the visitor passes in it:
// passes.js).

import { toInput } from "../shared/format.js";
import { esc, h } from "../shared/html.js";

export const CredentialsTab = (Base) => class extends Base {
  _renderCredentials() {
    const c = this._c;
    const tz = this._tz();
    this._view.innerHTML = esc(h`
      <div class="grid2 stack-gap">
        <section class="card" aria-labelledby="cred-h">
          <h2 id="cred-h">Cards and PIN</h2>
          <div class="form-grid">
            <label class="field"><span>Find a resident</span>
              <input type="search" data-input="cred-filter" value="${c.filter}" placeholder="Name, id, unit…" autocomplete="off"></label>
            <label class="field"><span>Resident</span>
              <select data-testid="cred-resident" data-change="cred-resident" id="cred-resident"></select></label>
          </div>
          <div id="cred-detail"></div>
        </section>
        <section class="card" aria-labelledby="pass-h">
          <h2 id="pass-h">Issue a visitor pass</h2>
          <form data-form="pass" novalidate>
            <div class="form-grid">
              <label class="field"><span>Visitor name *</span>
                <input name="visitor_name" data-testid="pass-visitor" autocomplete="off" required maxlength="200"></label>
              <label class="field"><span>Issued by (resident) *</span>
                <select name="issued_by" data-testid="pass-issued-by" id="pass-issued-by" required></select></label>
              <fieldset class="field wide"><legend>Doors *</legend><div class="doors" id="pass-doors"></div></fieldset>
              <label class="field"><span>Valid from (empty: now)</span>
                <input type="datetime-local" name="valid_from" data-testid="pass-valid-from"></label>
              <label class="field"><span>Valid until *</span>
                <input type="datetime-local" name="valid_until" data-testid="pass-valid-until" required
                  value="${toInput(new Date(Date.now() + 86400000), tz)}"></label>
              <label class="field"><span>Maximum uses</span>
                <input type="number" name="max_uses" data-testid="pass-max-uses" min="1" max="1000" step="1" value="1"></label>
            </div>
            <div class="row end" style="margin-top:12px">
              <button type="submit" class="btn" data-testid="pass-issue" data-busy="pass-issue" ${this._dis("pass-issue")}>Issue pass</button>
            </div>
          </form>
          <div id="pass-qr-area"></div>
        </section>
      </div>
      <section class="card" aria-labelledby="passes-h">
        <header><h2 id="passes-h">Visitor passes</h2>
          <label class="check"><input type="checkbox" data-change="pass-inactive" ${c.includeInactive ? "checked" : ""}>
            Show expired, used and revoked</label></header>
        <div id="pass-list">${this._loadingHtml("Loading passes…")}</div>
      </section>`);
    this._renderCredSelects();
    this._renderCredDetail();
    this._renderPassDoors();
    this._renderQr();
    if (c.passes) this._renderPasses();
  }

  _residentOptions(selected, placeholder) {
    const all = this._allResidents ? this._allResidents.residents : [];
    const list = all.slice();
    if (selected && !list.some((r) => r.resident_id === selected)) {
      list.unshift({ resident_id: selected, full_name: this._names.get(selected) || selected });
    }
    return h`<option value="">${this._allResidents ? placeholder : "Loading residents…"}</option>
      ${list.map((r) => h`<option value="${r.resident_id}" ${r.resident_id === selected ? "selected" : ""}>${r.full_name} (${r.resident_id})${r.unit ? ` · ${r.unit}` : ""}</option>`)}`;
  }

  _renderCredSelects() {
    const c = this._c;
    const sel = this._$("#cred-resident");
    if (sel) sel.innerHTML = esc(this._residentOptions(c.selected, "Choose a resident…"));
    const by = this._$("#pass-issued-by");
    if (by) {
      const current = by.value || c.selected;
      by.innerHTML = esc(this._residentOptions(current, "Choose the resident…"));
    }
    if (this._allResidents && !this._allResidents.residents.length && !this._allResidents.query) {
      this._set("#cred-detail", h`<div class="empty" data-testid="empty-state">
        <div class="big">No residents yet — add one or import a CSV</div>Cards, PINs and visitor passes belong to residents.</div>`);
    } else if (!c.selected) this._renderCredDetail();
    if (this._allResidents && this._allResidents.total > this._allResidents.residents.length) {
      const hint = document.createElement("p");
      hint.className = "muted small";
      hint.textContent = `Showing the first ${this._allResidents.residents.length} of ${this._allResidents.total}: type in “Find a resident” to narrow the list.`;
      const detail = this._$("#cred-detail");
      if (detail && !detail.querySelector(".more-hint")) {
        hint.classList.add("more-hint");
        detail.prepend(hint);
      }
    }
  }

  _selectCredResident(residentId) {
    this._c.selected = residentId;
    this._c.resident = null;
    const by = this._$("#pass-issued-by");
    if (by && !by.value && residentId) by.value = residentId;
    this._renderCredDetail();
    if (residentId) this._loadCredResident();
  }

  async _loadCredResident() {
    const c = this._c;
    const req = ++c.req;
    const id = c.selected;
    try {
      const res = await this._ws("residents/get", { resident_id: id });
      if (req !== c.req) return;
      c.resident = res;
      this._remember([res]);
    } catch (err) {
      if (req !== c.req) return;
      this._setError(err);
      return;
    }
    if (this._tab !== "credentials") return;
    if (!this._$("#cred-cards")) this._renderCredDetail();
    else {
      this._renderCards();
      this._renderPinState();
    }
  }

  _renderCredDetail() {
    const c = this._c;
    const el = this._$("#cred-detail");
    if (!el) return;
    if (!c.selected) {
      el.innerHTML = esc(h`<p class="muted" style="margin-top:16px">Choose a resident to manage their cards and PIN.</p>`);
      return;
    }
    if (!c.resident || c.resident.resident_id !== c.selected) {
      el.innerHTML = esc(this._loadingHtml("Loading credentials…"));
      return;
    }
    el.innerHTML = esc(h`
      <h3>Cards</h3>
      <div id="cred-cards"></div>
      <form data-form="card" class="row" style="margin-top:8px" novalidate>
        <label class="field" style="flex:1 1 160px"><span>Card number</span>
          <input name="card_number" data-testid="card-number" autocomplete="off" required maxlength="64" spellcheck="false"></label>
        <button type="submit" class="btn" data-testid="card-add" data-busy="card-add" style="align-self:flex-end"
          ${this._dis("card-add")}>Add card</button>
      </form>
      <h3>PIN</h3>
      <div id="cred-pin"></div>
      <form data-form="pin" class="row" style="margin-top:8px" novalidate>
        <label class="field" style="flex:1 1 160px"><span>New PIN (${this._pinDigits()} digits)</span>
          <input type="password" name="pin" data-testid="pin-input" autocomplete="new-password" inputmode="numeric"
            pattern="[0-9]{4,8}" minlength="4" maxlength="8" required></label>
        <button type="submit" class="btn" data-testid="pin-set" data-busy="pin" style="align-self:flex-end" ${this._dis("pin")}>Set PIN</button>
      </form>`);
    this._renderCards();
    this._renderPinState();
  }

  _renderCards() {
    const res = this._c.resident;
    if (!res) return;
    const cards = res.cards || [];
    this._set("#cred-cards", cards.length ? h`<ul class="plain">${cards.map((card) => h`
      <li data-testid="card-row" data-card-id="${card.card_id}">
        <span class="mono" style="font-size:14px">${card.hint || card.card_id}</span>
        <span class="muted small">added ${this._fmt(card.added_at, false)}</span>
        <span class="spacer"></span>
        <button type="button" class="btn danger secondary" data-testid="card-revoke" data-action="card-revoke"
          data-card-id="${card.card_id}" data-busy="card-revoke" ${this._dis("card-revoke")}>Revoke</button>
      </li>`)}</ul>` : h`<p class="muted">No cards.</p>`);
  }

  _pinDigits() {
    const res = this._c.resident;
    return (res && res.pin_digits) || 6;
  }

  _renderPinState() {
    const res = this._c.resident;
    if (!res) return;
    this._set("#cred-pin", h`<div class="row">
      <span data-testid="pin-state" class="badge ${res.has_pin ? "ok" : ""}">${res.has_pin ? "PIN set" : "No PIN"}</span>
      ${res.keypad_code ? h`<span data-testid="keypad-code">Keypad code <span class="mono">${res.keypad_code}</span></span>` : ""}
      <span class="muted small">At a keypad: the code, then the PIN. A PIN is stored hashed and never shown.</span>
      <span class="spacer"></span>
      ${res.has_pin ? h`<button type="button" class="btn danger secondary" data-testid="pin-revoke" data-action="pin-revoke"
        data-busy="pin" ${this._dis("pin")}>Revoke PIN</button>` : ""}</div>`);
  }

  async _addCard(form) {
    const res = this._c.resident;
    const input = form.elements && form.elements.namedItem("card_number");
    if (!res || !input) return;
    const number = input.value.trim();
    if (!number) {
      input.setAttribute("aria-invalid", "true");
      this._setError("Enter the card number.");
      return;
    }
    const added = await this._task("card-add", () => this._ws("cards/add", { resident_id: res.resident_id, card_number: number }));
    if (!added) return;
    input.value = "";
    await this._loadCredResident();
  }

  async _revokeCard(el, cardId) {
    if (!cardId) return;
    const done = await this._task("card-revoke", async () => {
      await this._ws("cards/revoke", { card_id: cardId });
      return true;
    });
    if (done) await this._loadCredResident();
  }

  async _setPin(form) {
    const res = this._c.resident;
    const input = form.elements && form.elements.namedItem("pin");
    if (!res || !input) return;
    const pin = input.value;
    const digits = this._pinDigits();
    if (!/^[0-9]+$/.test(pin) || pin.length !== digits) {
      input.setAttribute("aria-invalid", "true");
      this._setError(`A PIN is ${digits} digits.`);
      return;
    }
    const done = await this._task("pin", async () => {
      await this._ws("pin/set", { resident_id: res.resident_id, pin });
      return true;
    });
    input.value = "";
    if (done) await this._loadCredResident();
  }

  async _revokePin() {
    const res = this._c.resident;
    if (!res) return;
    const done = await this._task("pin", async () => {
      await this._ws("pin/revoke", { resident_id: res.resident_id });
      return true;
    });
    if (done) await this._loadCredResident();
  }
};
