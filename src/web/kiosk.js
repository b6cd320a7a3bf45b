// The self-checkout terminal of a self-service store: scan products, pay, get the receipt. A plain ES module over
// the checkout API (/api/v1/checkouts) with the store's kiosk token, which a manager enters once when pairing the
// terminal (the token names its store) and which only lets it look up products and register purchases there.
//
// A purchase is sent with an Idempotency-Key made for it. If its answer does not arrive (the network, a restart,
// the page reloaded), the purchase may or may not be recorded: the basket stays locked and "Try again" resends the
// very same request with the same key, which the server records once and answers with the first response. Only an
// answer that says no (not enough stock, a bad line) unlocks the basket. The unanswered request is kept in the
// browser's storage, so a reload does not lose it.
//
// The terminal speaks Portuguese or English (kiosk-text.js): the language chosen when it was paired, which a
// customer can switch for their purchase; the next purchase starts in the terminal's language again. Numbers and
// money stay in the Brazilian form in both.
import { ApiError, browserLang, byId, decimal, el, LOCALE, money, problemText, putTexts } from './common.js';
import { TEXT } from './kiosk-text.js';

const API = '/api/v1';
const TERMINAL = 'shopflow.kiosk.terminal';
const PENDING = 'shopflow.kiosk.pending';
const METHODS = ['debit', 'credit', 'pix', 'voucher', 'cash'];

const input = (id) => /** @type {HTMLInputElement} */ (document.getElementById(id));

/**
 * @typedef {{ code: string, sku: string, name: string, unit: 'UN' | 'KG', priceCents: number,
 *   matchedBy: 'ean' | 'sku' | 'scale_label', quantityMilli: number, amountCents: number }} Item
 */

/** @type {{ store: string, token: string, lang?: 'pt' | 'en' } | null} */
let terminal = null;
/** the language on the screen now */
/** @type {'pt' | 'en'} */
let lang = browserLang();
/** what the page says, in the language on the screen */
const say = () => TEXT[lang];
/** the receipt on the screen, to be told again in another language */
let shownReceipt = null;
/** @type {Item[]} */
let basket = [];
/** the purchase sent and not answered yet: while it exists the basket cannot change */
/** @type {{ key: string, body: unknown, basket: Item[] } | null} */
let pending = null;
/** a weighed product scanned without a scale label, waiting for its weight */
/** @type {Omit<Item, 'quantityMilli' | 'amountCents'> | null} */
let weighing = null;

async function api(path, init = {}) {
  // the server says what it refuses (a request it cannot read, say) in the language on the screen
  const headers = {
    accept: 'application/json',
    'accept-language': LOCALE[lang],
    authorization: `Bearer ${terminal?.token ?? ''}`,
  };
  if (init.body) headers['content-type'] = 'application/json';
  const res = await fetch(`${API}${path}`, { credentials: 'omit', ...init, headers: { ...headers, ...init.headers } });
  const isJson = (res.headers.get('content-type') ?? '').includes('json');
  const body = isJson ? await res.json() : await res.text();
  if (!res.ok) {
    if (res.status === 401) throw new ApiError(say().notAccepted, 401, body);
    throw new ApiError(problemText(body, res.status), res.status, body);
  }
  return body;
}

const quantityText = (milli, unit) => (unit === 'KG' ? `${decimal.format(milli / 1000)} kg` : String(milli / 1000));
/** quantity × price to the cent, half up, as the server computes a line (amounts here are never negative) */
const amountOf = (milli, priceCents) => Math.round((milli * priceCents) / 1000);

/** Puts every fixed text of the page, and what is on the screen, in `next`. */
function speak(next) {
  lang = next;
  putTexts(say(), lang);
  if (terminal) byId('terminal-store').textContent = say().store(terminal.store);
  if (weighing) byId('weight-for').textContent = say().weightOf(weighing.name);
  if (shownReceipt) receiptWords(shownReceipt);
  render();
}

function show(section) {
  for (const id of ['pair', 'sale', 'receipt']) byId(id).hidden = id !== section;
  byId('terminal').hidden = section === 'pair';
  if (section === 'sale') input('code').focus();
}

function load(key) {
  try {
    return JSON.parse(localStorage.getItem(key) ?? 'null');
  } catch {
    return null;
  }
}

function start() {
  byId('pair-form').addEventListener('submit', pair);
  byId('unpair').addEventListener('click', unpair);
  byId('scan-form').addEventListener('submit', scan);
  byId('weight-form').addEventListener('submit', addWeighed);
  byId('weight-cancel').addEventListener('click', closeWeighing);
  byId('clear').addEventListener('click', () => {
    basket = [];
    speak(terminal?.lang ?? lang);
  });
  byId('retry').addEventListener('click', () => send());
  byId('next').addEventListener('click', () => {
    basket = [];
    shownReceipt = null;
    // the next customer is greeted in the terminal's language
    speak(terminal?.lang ?? lang);
    show('sale');
  });
  byId('language').addEventListener('click', () => {
    speak(lang === 'pt' ? 'en' : 'pt');
    if (!byId('sale').hidden) input('code').focus();
  });
  const pairLang = /** @type {HTMLSelectElement} */ (byId('pair-form').querySelector('select[name=lang]'));
  pairLang.value = lang;
  pairLang.addEventListener('change', () => speak(pairLang.value === 'en' ? 'en' : 'pt'));
  for (const b of byId('pay').querySelectorAll('button')) {
    b.addEventListener('click', () => pay(/** @type {HTMLElement} */ (b).dataset.method ?? 'other'));
  }
  terminal = load(TERMINAL);
  pending = load(PENDING);
  if (pending && terminal) basket = pending.basket;
  speak(terminal?.lang ?? lang);
  show(terminal ? 'sale' : 'pair');
}

async function pair(event) {
  event.preventDefault();
  const form = /** @type {HTMLFormElement} */ (event.target);
  const data = new FormData(form);
  terminal = {
    store: '',
    token: String(data.get('token') ?? '').trim(),
    lang: data.get('lang') === 'en' ? 'en' : 'pt',
  };
  try {
    // the token says which store it is for: a kiosk token is bound to exactly one
    const me = await api('/auth/me');
    if (me.kind !== 'token' || me.purpose !== 'kiosk' || me.stores.length !== 1) {
      throw new Error(say().notKiosk(me.kind === 'token' ? me.purpose : null));
    }
    terminal.store = me.stores[0];
  } catch (e) {
    terminal = null;
    byId('pair-error').textContent = e.message;
    return;
  }
  localStorage.setItem(TERMINAL, JSON.stringify(terminal));
  form.token.value = '';
  byId('pair-error').textContent = '';
  basket = [];
  speak(terminal.lang ?? lang);
  show('sale');
}

function unpair() {
  if (pending && !confirm(say().unpairPending)) return;
  localStorage.removeItem(TERMINAL);
  localStorage.removeItem(PENDING);
  terminal = null;
  pending = null;
  basket = [];
  render();
  show('pair');
}

/** the scans not looked up yet, in order: a scanner types the next code while the last one is still being looked up */
let scanning = Promise.resolve();

function scan(event) {
  event.preventDefault();
  if (pending) return;
  const code = input('code').value.trim();
  input('code').value = '';
  if (code) scanning = scanning.then(() => lookUp(code));
}

async function lookUp(code) {
  byId('scan-error').textContent = '';
  try {
    const p = await api(
      `/checkouts/products?store=${encodeURIComponent(terminal?.store ?? '')}&code=${encodeURIComponent(code)}`,
    );
    if (pending) return;
    const item = { code, sku: p.sku, name: p.name, unit: p.unit, priceCents: p.priceCents, matchedBy: p.matchedBy };
    if (p.label) {
      // a scale label carries its own weight (or price): one line per label
      basket.push({ ...item, quantityMilli: Math.round(p.label.quantity * 1000), amountCents: p.label.totalCents });
    } else if (p.unit === 'KG') {
      // the scans after it wait until its weight is given (or it is left out)
      await new Promise((resolve) => askWeight(item, resolve));
      return;
    } else {
      const same = basket.find((i) => i.sku === p.sku && i.matchedBy !== 'scale_label');
      if (same) {
        same.quantityMilli += 1000;
        same.amountCents = amountOf(same.quantityMilli, same.priceCents);
      } else {
        basket.push({ ...item, quantityMilli: 1000, amountCents: p.priceCents });
      }
    }
    render();
  } catch (e) {
    byId('scan-error').textContent = e.status === 404 ? say().noProduct(code) : e.message;
  }
}

/** called when the weighed product on the form is added or left out */
let weighed = () => {};

function askWeight(item, done = () => {}) {
  weighing = item;
  weighed = done;
  byId('weight-form').hidden = !item;
  byId('scan-form').hidden = !!item;
  if (item) {
    byId('weight-for').textContent = say().weightOf(item.name);
    input('kg').value = '';
    input('kg').focus();
  } else {
    input('code').focus();
  }
}

/** Hides the weight form (its product added or left out) and lets the scans queued behind it go on. */
function closeWeighing() {
  const done = weighed;
  askWeight(null);
  done();
}

function addWeighed(event) {
  event.preventDefault();
  if (!weighing || pending) return;
  const text = input('kg').value.trim().replace(',', '.');
  const m = /^(\d{1,6})(?:\.(\d{1,3}))?$/.exec(text);
  const milli = m ? Number(m[1]) * 1000 + Number((m[2] ?? '').padEnd(3, '0')) : 0;
  if (!milli) {
    byId('scan-error').textContent = say().notWeight(input('kg').value);
    return;
  }
  byId('scan-error').textContent = '';
  basket.push({ ...weighing, quantityMilli: milli, amountCents: amountOf(milli, weighing.priceCents) });
  render();
  closeWeighing();
}

function render() {
  const locked = !!pending;
  const rows = basket.map((item, i) => {
    const remove = el(
      'button',
      { type: 'button', class: 'secondary', 'aria-label': say().removeLabel(item.name) },
      say().remove,
    );
    remove.addEventListener('click', () => {
      basket.splice(i, 1);
      render();
    });
    if (locked) remove.setAttribute('disabled', '');
    return el(
      'tr',
      {},
      el('td', {}, item.name),
      el('td', { class: 'num' }, quantityText(item.quantityMilli, item.unit)),
      el('td', { class: 'num' }, `${money.format(item.priceCents / 100)}${item.unit === 'KG' ? '/kg' : ''}`),
      el('td', { class: 'num' }, money.format(item.amountCents / 100)),
      el('td', {}, remove),
    );
  });
  byId('basket')
    .querySelector('tbody')
    ?.replaceChildren(...rows);
  byId('total').textContent = money.format(basket.reduce((a, i) => a + i.amountCents, 0) / 100);
  for (const b of byId('pay').querySelectorAll('button')) {
    if (locked || basket.length === 0) b.setAttribute('disabled', '');
    else b.removeAttribute('disabled');
  }
  for (const id of ['code', 'scan-button', 'clear']) {
    if (locked) byId(id).setAttribute('disabled', '');
    else byId(id).removeAttribute('disabled');
  }
  byId('unresolved').hidden = !locked;
}

function pay(method) {
  if (pending || basket.length === 0 || !terminal) return;
  const lines = basket.map((i) => {
    if (i.matchedBy === 'scale_label') return { ean: i.code };
    const quantity = i.unit === 'KG' ? (i.quantityMilli / 1000).toFixed(3) : i.quantityMilli / 1000;
    return i.matchedBy === 'ean' ? { ean: i.code, quantity } : { sku: i.sku, quantity };
  });
  pending = { key: crypto.randomUUID(), body: { store: terminal.store, paymentMethod: method, lines }, basket };
  localStorage.setItem(PENDING, JSON.stringify(pending));
  byId('pay-error').textContent = '';
  render();
  return send();
}

/** Sends the pending purchase (again): the same body with the same key. */
async function send() {
  if (!pending) return;
  const { key, body } = pending;
  byId('retry').setAttribute('disabled', '');
  try {
    const receipt = await api('/checkouts', {
      method: 'POST',
      headers: { 'idempotency-key': key },
      body: JSON.stringify(body),
    });
    settle();
    showReceipt(receipt);
  } catch (e) {
    if (e instanceof ApiError && e.status >= 400 && e.status < 500) {
      // an answer that says no: nothing was recorded, the basket can be changed and paid again
      byId('pay-error').textContent = refusalText(e, pending.basket);
      settle();
    } else {
      byId('pay-error').textContent = e instanceof ApiError ? say().serverError(e.message) : say().noAnswer;
    }
  } finally {
    byId('retry').removeAttribute('disabled');
    render();
  }
}

/**
 * What a refused purchase tells the customer: the products short of stock, named as in the basket (the server's
 * problem points at them as `lines/<index>`, in the basket's order), or else the server's own words.
 */
function refusalText(e, items) {
  if (e.status === 401) return e.message;
  const short =
    e.status === 409 && Array.isArray(e.body?.errors)
      ? e.body.errors.map((x) => items[Number(/^lines\/(\d+)$/.exec(x.where ?? '')?.[1] ?? -1)]).filter(Boolean)
      : [];
  if (short.length === 0) return say().refused(e.message);
  return say().noStock([...new Set(short.map((i) => `${i.name} (${i.sku})`))].join(', '));
}

function settle() {
  pending = null;
  localStorage.removeItem(PENDING);
}

/** The receipt's words that depend on the language. */
function receiptWords(r) {
  byId('receipt-when').textContent = new Date(r.createdAt).toLocaleString(LOCALE[lang]);
  byId('receipt-method').textContent = METHODS.includes(r.paymentMethod) ? say()[r.paymentMethod] : r.paymentMethod;
}

function showReceipt(r) {
  shownReceipt = r;
  // the number staff look the purchase up by (to void it, say)
  byId('receipt-number').textContent = String(r.id);
  byId('receipt-id').textContent = r.receiptId;
  receiptWords(r);
  byId('receipt-lines')
    .querySelector('tbody')
    ?.replaceChildren(
      ...r.lines.map((l) =>
        el(
          'tr',
          {},
          el('td', {}, l.name),
          el('td', { class: 'num' }, quantityText(Math.round(l.quantity * 1000), l.unit)),
          el('td', { class: 'num' }, `${money.format(l.unitPriceCents / 100)}${l.unit === 'KG' ? '/kg' : ''}`),
          el('td', { class: 'num' }, money.format(l.totalCents / 100)),
        ),
      ),
    );
  byId('receipt-total').textContent = money.format(r.totalCents / 100);
  basket = [];
  show('receipt');
}

try {
  start();
} catch (e) {
  const p = byId('fatal');
  p.textContent = say().cannotStart(e instanceof Error ? e.message : String(e));
  p.hidden = false;
}
