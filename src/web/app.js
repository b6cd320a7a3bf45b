// The employees' page: log in; send a store-day's sales file and follow its ingest; a store's low stock, a shelf
// count, goods received and a transfer (sheets of products, one per line); a self-checkout purchase by its number
// (and voiding it); the store's restock orders (approve a draft, receive a delivery against it); its kiosk and
// upload tokens (managers); the people who may log in (admins); reports (PDF or CSV, saved to the reports bucket);
// a period's sales with CSV downloads. A plain ES module without a build step; it only talks to the JSON API under
// /api/v1 with the session cookie, echoing the session's CSRF token on every state-changing request. Everything
// that comes from a file or the database is put on the page as text, never as markup.
import { TEXT } from './app-text.js';
import { ApiError, browserLang, byId, decimal, el, LOCALE, money, problemText, putTexts } from './common.js';

const API = '/api/v1';
const FINAL = ['loaded', 'replaced', 'duplicate', 'failed', 'superseded'];
const POLL_MS = 700;
/** reports of the stock as it is when generated: they take no period end */
const STOCK_REPORTS = ['low-stock', 'stock-position'];
/** every element that shows data: emptied at logout */
const RESULTS = [
  'upload-result',
  'stock-result',
  'count-result',
  'receipt-result',
  'transfer-result',
  'purchase-result',
  'restock-result',
  'restock-order',
  'report-result',
  'sales-result',
  'token-made',
  'tokens-result',
  'user-made',
  'users-result',
];

const signedDecimal = new Intl.NumberFormat('pt-BR', { maximumFractionDigits: 3, signDisplay: 'exceptZero' });
const signedPercent = new Intl.NumberFormat('pt-BR', {
  style: 'percent',
  maximumFractionDigits: 1,
  signDisplay: 'exceptZero',
});

/** where the page keeps the language a person chose at this browser */
const LANGUAGE = 'shopflow.language';
/** @type {'pt' | 'en'} */
const saved = localStorage.getItem(LANGUAGE);
/** @type {'pt' | 'en'} */
let lang = saved === 'pt' || saved === 'en' ? saved : browserLang();
/** what the page says, in its language now */
const say = () => TEXT[lang];

/** @type {string} */
let csrf = '';
/** managers and admins: approving orders, voiding purchases, transfers and tokens are theirs (the server checks it) */
let manages = false;

/** A table of a header and rows already built (`tr` elements: rows with buttons in them, say). */
const rowsTable = (id, head, rows) =>
  el('table', { id }, el('thead', {}, el('tr', {}, ...head)), el('tbody', {}, ...rows));

/** A table of text cells; the columns in `numeric` are aligned as numbers. */
function table(id, head, rows, numeric = []) {
  const cell = (tag, text, i) => el(tag, numeric.includes(i) ? { class: 'num' } : {}, text);
  return rowsTable(
    id,
    head.map((h, i) => cell('th', h, i)),
    rows.map((r) => el('tr', {}, ...r.map((c, i) => cell('td', c, i)))),
  );
}

/** Header cells of plain text. */
const heads = (names) => names.map((h) => el('th', {}, h));

/** Sends `body` as JSON. */
const sendJson = (method, path, body) =>
  api(path, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const postJson = (path, body) => sendJson('POST', path, body);

async function api(path, init = {}) {
  // the server says its refusals and a file's or line's reasons in the page's language
  const headers = { accept: 'application/json', 'accept-language': LOCALE[lang], ...(init.headers ?? {}) };
  if (init.method && init.method !== 'GET') headers['x-csrf-token'] = csrf;
  const res = await fetch(`${API}${path}`, { credentials: 'same-origin', ...init, headers });
  const isJson = (res.headers.get('content-type') ?? '').includes('json');
  const body = isJson ? await res.json() : await res.text();
  if (!res.ok) throw new ApiError(problemText(body, res.status), res.status, body);
  return body;
}

/** A failure, shown where the answer would have been. */
const errorLine = (e) => el('p', { class: 'error', role: 'alert' }, e.message);

/** A quantity as typed (a decimal comma allowed) in the API's form. */
const decimalText = (typed) => typed.trim().replace(',', '.');

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A calendar day `days` before a YYYY-MM-DD one (calendar arithmetic: no time zone involved). */
function daysBefore(day, days) {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() - days);
  return d.toISOString().slice(0, 10);
}

/** The count form's usual reason in the page's language, unless the person wrote one of their own. */
function sayCountReason(previous) {
  const reason = /** @type {HTMLFormElement} */ (byId('count-form')).reason;
  if (!reason.value || reason.value === previous) reason.value = say().shelfCount;
}

function show(section) {
  byId('login').hidden = section !== 'login';
  byId('work').hidden = section !== 'work';
  byId('who').hidden = section !== 'work';
}

async function start() {
  putTexts(say(), lang);
  sayCountReason(undefined);
  byId('language').addEventListener('click', () => {
    const before = say();
    lang = lang === 'pt' ? 'en' : 'pt';
    localStorage.setItem(LANGUAGE, lang);
    // what is on the screen was said in the other language: the next answers come in this one
    putTexts(say(), lang);
    sayCountReason(before.shelfCount);
    if (me) whoName();
  });
  byId('login-form').addEventListener('submit', logIn);
  byId('logout').addEventListener('click', logOut);
  onSubmit('upload-form', 'upload-result', upload);
  onSubmit('sales-form', 'sales-result', showSales);
  onSubmit('stock-form', 'stock-result', showLowStock);
  onSubmit('count-form', 'count-result', recordCount);
  onSubmit('receipt-form', 'receipt-result', receiveGoods);
  onSubmit('transfer-form', 'transfer-result', transferStock);
  onSubmit('purchase-form', 'purchase-result', (form, out) =>
    showPurchase(form.store.value, form.number.value.trim(), out),
  );
  onSubmit('report-form', 'report-result', generateReport);
  onSubmit('restock-form', 'restock-result', listRestockOrders);
  onSubmit('tokens-form', 'token-made', makeToken);
  byId('tokens-list').addEventListener('click', () =>
    listTokens().catch((e) => byId('tokens-result').replaceChildren(errorLine(e))),
  );
  onSubmit('user-form', 'user-made', addUser);
  byId('users-list').addEventListener('click', () =>
    listUsers().catch((e) => byId('users-result').replaceChildren(errorLine(e))),
  );
  try {
    await enter(await api('/auth/me'));
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) show('login');
    else fatal(e);
  }
}

/** On submit, `answer(form, out)` fills the form's result element; a failure is shown there instead. */
function onSubmit(formId, resultId, answer) {
  byId(formId).addEventListener('submit', async (event) => {
    event.preventDefault();
    const out = byId(resultId);
    try {
      await answer(/** @type {HTMLFormElement} */ (event.target), out);
    } catch (e) {
      out.replaceChildren(errorLine(e));
    }
  });
}

function fatal(e) {
  const p = byId('fatal');
  p.textContent = e instanceof Error ? e.message : String(e);
  p.hidden = false;
}

async function logIn(event) {
  event.preventDefault();
  const form = /** @type {HTMLFormElement} */ (event.target);
  const error = byId('login-error');
  error.textContent = '';
  try {
    const answer = await postJson('/auth/login', { username: form.username.value, password: form.password.value });
    form.password.value = '';
    await enter({ ...answer.user, csrfToken: answer.csrfToken });
  } catch (e) {
    error.textContent = e instanceof ApiError && e.status === 401 ? say().wrongLogin : e.message;
  }
}

async function logOut() {
  try {
    await api('/auth/logout', { method: 'POST' });
  } finally {
    csrf = '';
    me = null;
    // the next person at this browser must not see what the last one was shown
    for (const id of RESULTS) byId(id).replaceChildren();
    show('login');
  }
}

/** who is logged in, as the header shows them */
let me = null;
const whoName = () => {
  byId('who-name').textContent = `${me.displayName || me.username} (${say()[me.role] ?? me.role})`;
};

async function enter(who) {
  if (who.kind !== 'user') throw new Error(say().notForMachines);
  me = who;
  csrf = me.csrfToken ?? '';
  manages = me.role === 'manager' || me.role === 'admin';
  whoName();
  // the stores this person may see, each with its business day: the forms' dates follow the store they are set to,
  // not this browser's day (a chain's stores may lie in different time zones)
  const stores = await api('/stores');
  const todayOf = new Map(stores.map((s) => [s.code, s.today]));
  // "every store" (the sales form's default, a chain report) takes the earliest of their days: its yesterday has
  // ended in all of them
  const everywhere = stores.map((s) => s.today).sort()[0] ?? new Date().toISOString().slice(0, 10);
  const dayOf = (code) => todayOf.get(code) ?? everywhere;
  const options = () => stores.map((s) => el('option', { value: s.code }, `${s.code} — ${s.name}`));
  byId('upload-store').replaceChildren(...options());
  byId('stock-store').replaceChildren(...options());
  byId('restock-store').replaceChildren(...options());
  byId('count-store').replaceChildren(...options());
  byId('receipt-store').replaceChildren(...options());
  byId('purchase-store').replaceChildren(...options());
  byId('transfer-from').replaceChildren(...options());
  byId('transfer-to').replaceChildren(...options());
  // a transfer goes to another store: the second one, not the sending one, to begin with
  /** @type {HTMLSelectElement} */ (byId('transfer-to')).selectedIndex = stores.length > 1 ? 1 : 0;
  // transfers are for managers and admins, between two stores they both see
  byId('transfer').hidden = !manages || stores.length < 2;
  byId('tokens-store').replaceChildren(...options());
  // tokens are made and revoked by the stores' managers (and admins)
  byId('tokens').hidden = !manages;
  // people are added, changed and disabled by admins, who see every store
  byId('user-stores').replaceChildren(...options());
  byId('users').hidden = me.role !== 'admin';
  // a report of the whole chain is for admins
  byId('report-store').replaceChildren(
    ...options(),
    ...(me.allStores ? [el('option', { value: '' }, say().wholeChain)] : []),
  );
  byId('sales-store').replaceChildren(
    el('option', { value: '', 'data-text': 'allMyStores' }, say().allMyStores),
    ...options(),
  );
  followStoreDay(byId('upload-form'), { date: 1 }, dayOf);
  followStoreDay(byId('sales-form'), { from: 7, to: 1 }, dayOf);
  followStoreDay(byId('report-form'), { from: 1 }, dayOf);
  show('work');
}

/**
 * Sets a form's date fields to days before its store's business day (`fields`: name → days before), and again
 * whenever another store is chosen; a date the person typed is theirs and stays.
 */
function followStoreDay(form, fields, dayOf) {
  const set = new Map();
  const apply = () => {
    const today = dayOf(form.store.value);
    for (const [name, before] of Object.entries(fields)) {
      const input = form.elements.namedItem(name);
      if (set.has(name) && input.value !== set.get(name)) continue;
      input.value = daysBefore(today, before);
      set.set(name, input.value);
    }
  };
  apply();
  // a property, not a listener: every login runs this again on the same form
  form.store.onchange = apply;
}

async function upload(form, out) {
  const file = form.file.files[0];
  if (!file) return;
  out.replaceChildren(el('p', {}, say().sending(file.name)));
  const gzip = file.name.toLowerCase().endsWith('.gz');
  const store = encodeURIComponent(form.store.value);
  // the bucket key takes letters, digits, '.', '_' and '-': a name like "vendas março.csv" is sent as vendas-mar-o.csv
  const name =
    file.name
      .replace(/[^A-Za-z0-9._-]/g, '-')
      .slice(-100)
      .replace(/^[^A-Za-z0-9]+/, '') || 'sales.csv';
  const sent = await api(`/stores/${store}/sales-files/${form.date.value}?name=${encodeURIComponent(name)}`, {
    method: 'PUT',
    headers: { 'content-type': gzip ? 'application/gzip' : 'text/csv' },
    body: file,
  });
  out.replaceChildren(el('p', {}, say().receivedAs(sent.fileId)));
  let result = await api(`/files/${sent.fileId}`);
  while (!FINAL.includes(result.status)) {
    await sleep(POLL_MS);
    result = await api(`/files/${sent.fileId}`);
  }
  out.replaceChildren(...fileReport(result));
}

function fileReport(f) {
  const parts = [
    el(
      'p',
      {},
      `${say().file} ${f.id}: `,
      el('span', { class: `status ${f.status}`, id: 'file-status' }, say().fileStatus[f.status] ?? f.status),
      say().fileCounts(f),
    ),
  ];
  if (f.reason) parts.push(el('p', { class: f.status === 'failed' ? 'error' : '' }, f.reason));
  if (f.warnings) parts.push(el('p', {}, f.warnings));
  if (f.rejections?.length) {
    parts.push(
      table(
        'rejections',
        [say().line, say().column, say().value, say().why],
        f.rejections.map((r) => [String(r.line), r.column, r.value, r.reason]),
        [0],
      ),
    );
  }
  return parts;
}

async function showSales(form, out) {
  const query = new URLSearchParams({ from: form.from.value, to: form.to.value });
  if (form.store.value) query.set('store', form.store.value);
  const [kpis, best] = await Promise.all([api(`/sales/kpis?${query}`), api(`/sales/best-sellers?${query}&limit=10`)]);
  const c = kpis.current;
  const card = (id, label, value, change) =>
    el(
      'div',
      { class: 'card', id },
      el('div', { class: 'label' }, label),
      el('div', { class: 'value' }, value),
      el(
        'div',
        { class: 'change' },
        change === null || change === undefined
          ? say().noEarlier
          : say().onPrevious(signedPercent.format(change), days(kpis.period)),
      ),
    );
  out.replaceChildren(
    el(
      'div',
      { class: 'cards' },
      card('kpi-revenue', say().revenue, money.format(c.revenueCents / 100), kpis.change.revenue),
      card('kpi-tickets', say().tickets, decimal.format(c.tickets), kpis.change.tickets),
      card(
        'kpi-average',
        say().averageTicket,
        c.averageTicketCents === null ? '—' : money.format(c.averageTicketCents / 100),
        kpis.change.averageTicket,
      ),
      card(
        'kpi-items',
        say().itemsPerTicket,
        c.itemsPerTicket === null ? '—' : decimal.format(c.itemsPerTicket),
        kpis.change.itemsPerTicket,
      ),
    ),
    el('h3', {}, say().bestSellers),
    best.rows.length === 0
      ? el('p', {}, say().noSales)
      : table(
          'best-sellers',
          ['#', 'SKU', say().product, say().quantity, say().revenue],
          best.rows.map((r) => [
            String(r.rank),
            r.sku,
            r.name,
            decimal.format(r.quantityMilli / 1000),
            money.format(r.revenueCents / 100),
          ]),
          [0, 3, 4],
        ),
    el(
      'p',
      { class: 'downloads' },
      el('a', { href: `${API}/sales/series?${query}&grain=day&format=csv` }, say().dayByDay),
      el('a', { href: `${API}/sales/best-sellers?${query}&limit=100&format=csv` }, say().bestSellersCsv),
      el('a', { href: `${API}/sales/totals?${query}&by=category&format=csv` }, say().byCategoryCsv),
    ),
  );
}

/** The store's products at or below their reorder point, with what the level should be brought back to. */
async function showLowStock(form, out) {
  const rows = await api(`/stock/${encodeURIComponent(form.store.value)}?low=true`);
  const level = (n) => (n === null ? '—' : decimal.format(n));
  out.replaceChildren(
    rows.length === 0
      ? el('p', {}, say().nothingLow)
      : table(
          'low-stock',
          ['SKU', say().product, say().onHand, say().reorderPoint, say().targetLevel],
          rows.map((r) => [r.sku, r.name, decimal.format(r.onHand), level(r.reorderPoint), level(r.targetLevel)]),
          [2, 3, 4],
        ),
  );
}

/** Sets a product's stock to what was counted on the shelf: the difference is recorded as a count movement. */
/**
 * The products and quantities typed in a sheet: one per line, a SKU and a quantity apart by spaces, a tab or ";"
 * (a decimal comma is a comma, not a separator), blank lines skipped. `typed[i]` is the line the i-th product was
 * typed on, to point at it when the server refuses one. A wrong line is named before anything is sent.
 */
function readSheet(text, field) {
  const lines = [];
  const typed = [];
  const wrong = [];
  const seen = new Map();
  text.split(/\r?\n/).forEach((line, i) => {
    if (!line.trim()) return;
    const m = /^\s*([^\s;]+)[\s;]+(\d+(?:[.,]\d+)?)\s*$/.exec(line);
    if (!m) {
      wrong.push(say().sheetUnreadable(i + 1, line.trim()));
    } else if (seen.has(m[1])) {
      wrong.push(say().sheetRepeated(i + 1, m[1], seen.get(m[1])));
    } else {
      seen.set(m[1], i + 1);
      lines.push({ sku: m[1], [field]: decimalText(m[2]) });
      typed.push(i + 1);
    }
  });
  if (wrong.length > 0) throw new Error(wrong.join('; '));
  if (lines.length === 0) throw new Error(say().sheetEmpty);
  if (lines.length > 1000) throw new Error(say().sheetTooLong(lines.length));
  return { lines, typed };
}

/** Sends a sheet; a refusal that names lines (`lines/2/sku`) is told by the line they were typed on. */
async function postSheet(path, body, typed) {
  try {
    return await postJson(path, body);
  } catch (e) {
    const named = (e.body?.errors ?? []).flatMap((x) => {
      const m = /^lines\/(\d+)/.exec(x.where ?? '');
      return m ? [say().sheetLine(typed[Number(m[1])], x.problem)] : [];
    });
    if (named.length === 0) throw e;
    // a refusal's detail opens with what went wrong ("store S001 does not have enough to send: …")
    const head = e.status === 409 ? String(e.body?.detail ?? '').split(': ')[0] : '';
    throw new ApiError(`${say().nothingRecorded(head)} ${named.join('; ')}`, e.status, e.body);
  }
}

/** One sentence per product of a recorded sheet. */
const doneList = (id, sentences) => el('ul', { id }, ...sentences.map((t) => el('li', {}, t)));

async function recordCount(form, out) {
  const { lines, typed } = readSheet(form.lines.value, 'counted');
  const r = await postSheet(
    `/stock/${encodeURIComponent(form.store.value)}/counts`,
    { reason: form.reason.value.trim(), lines },
    typed,
  );
  out.replaceChildren(
    doneList(
      'count-done',
      r.lines.map((l) =>
        say().countedLine(l, decimal.format(l.previous), decimal.format(l.counted), signedDecimal.format(l.difference)),
      ),
    ),
    el('p', {}, say().recordedBy(r.actor)),
  );
  form.lines.value = '';
}

/** Books goods that arrived without a restock order under their invoice or delivery note (received once). */
async function receiveGoods(form, out) {
  const supplier = form.supplier.value.trim();
  const { lines, typed } = readSheet(form.lines.value, 'quantity');
  const r = await postSheet(
    `/stock/${encodeURIComponent(form.store.value)}/receipts`,
    { reference: form.reference.value.trim(), ...(supplier ? { supplier } : {}), lines },
    typed,
  );
  out.replaceChildren(
    el('p', {}, say().receivedBy(r.reference, r.actor)),
    doneList(
      'receipt-done',
      r.lines.map((l) => say().receivedLine(l, decimal.format(l.quantity), decimal.format(l.onHand))),
    ),
  );
  form.lines.value = '';
}

/** Moves stock from one store to another in one transaction (never more than the sending store has). */
async function transferStock(form, out) {
  const { lines, typed } = readSheet(form.lines.value, 'quantity');
  const r = await postSheet(
    `/stock/${encodeURIComponent(form.from.value)}/transfers`,
    { to: form.to.value, reason: form.reason.value.trim(), lines },
    typed,
  );
  out.replaceChildren(
    doneList(
      'transfer-done',
      r.lines.map((l) =>
        say().transferred(
          l,
          decimal.format(l.quantity),
          r.from,
          decimal.format(l.fromOnHand),
          r.to,
          decimal.format(l.toOnHand),
        ),
      ),
    ),
  );
  form.lines.value = '';
}

/** A self-checkout purchase by its number (on the kiosk's receipt); a manager can void it, putting the goods back. */
async function showPurchase(store, id, out, note = '') {
  if (!/^\d{1,15}$/.test(id)) throw new Error(say().notPurchaseNumber(id));
  const c = await api(`/checkouts/${id}?store=${encodeURIComponent(store)}`);
  const parts = [el('p', {}, say().purchaseHead(c), el('span', { id: 'purchase-status' }, say().purchaseStatus(c)))];
  if (note) parts.push(el('p', { class: 'status loaded' }, note));
  parts.push(
    table(
      'purchase-lines',
      [say().product, say().quantity, say().price, say().amount],
      c.lines.map((l) => [
        l.name,
        decimal.format(l.quantity),
        money.format(l.unitPriceCents / 100),
        money.format(l.totalCents / 100),
      ]),
      [1, 2, 3],
    ),
    el('p', {}, say().total(money.format(c.totalCents / 100))),
  );
  if (c.status !== 'voided' && manages) {
    const form = el(
      'form',
      { id: 'void-form' },
      el('label', {}, say().voidWhy, el('input', { name: 'reason', required: '', maxlength: '300' })),
      el('button', { type: 'submit' }, say().voidButton),
    );
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      try {
        await postJson(`/checkouts/${c.id}/void`, { store, reason: form.reason.value.trim() });
        await showPurchase(store, String(c.id), out, say().voided);
      } catch (e) {
        out.prepend(errorLine(e));
      }
    });
    parts.push(form);
  }
  out.replaceChildren(...parts);
}

/** Makes a token for the chosen store and purpose and shows its secret, this once. */
async function makeToken(form, out) {
  const label = form.label.value.trim();
  const made = await postJson('/tokens', {
    store: form.store.value,
    purpose: form.purpose.value,
    ...(label ? { label } : {}),
  });
  form.label.value = '';
  out.replaceChildren(
    el('p', {}, say().tokenMade(made), el('code', { id: 'token-secret' }, made.token)),
    el('p', {}, say().tokenOnce),
  );
  await listTokens();
}

/** The chosen store's live tokens, each revocable. */
async function listTokens() {
  const out = byId('tokens-result');
  const store = /** @type {HTMLSelectElement} */ (byId('tokens-store')).value;
  const tokens = await api(`/tokens?store=${encodeURIComponent(store)}`);
  const when = (t) => (t ? t.slice(0, 16).replace('T', ' ') : '—');
  const rows = tokens.map((t) => {
    const revoke = el('button', { type: 'button', class: 'secondary' }, say().revoke);
    revoke.addEventListener('click', async () => {
      if (!confirm(say().revokeConfirm(t))) return;
      try {
        await api(`/tokens/${t.id}`, { method: 'DELETE' });
        await listTokens();
      } catch (e) {
        out.prepend(errorLine(e));
      }
    });
    return el(
      'tr',
      { 'data-token': String(t.id) },
      el('td', { class: 'num' }, String(t.id)),
      el('td', {}, t.purpose),
      el('td', {}, t.label ?? ''),
      el('td', {}, t.createdBy ?? ''),
      el('td', {}, when(t.createdAt)),
      el('td', {}, when(t.lastUsedAt)),
      el('td', {}, revoke),
    );
  });
  out.replaceChildren(
    tokens.length === 0 ? el('p', {}, say().noTokens) : rowsTable('tokens-table', heads(say().tokenHead), rows),
  );
}

/** Letters and digits that cannot be mistaken for each other when read aloud or copied from a screen: 32 of them,
 * so that a random byte modulo 32 picks each one equally often. */
const PASSWORD_LETTERS = 'abcdefghijkmnpqrstuvwxyz23456789';

/** A password for someone to be told once: 20 random characters (100 bits), from the browser's secure generator. */
function newPassword() {
  const bytes = crypto.getRandomValues(new Uint8Array(20));
  return Array.from(bytes, (b) => PASSWORD_LETTERS[b % PASSWORD_LETTERS.length]).join('');
}

/** The chosen options of a multiple select, by value. */
const chosen = (select) => Array.from(select.selectedOptions, (o) => o.value);

/** A password shown this once, with what to do with it. */
function passwordShown(username, password) {
  return [
    el('p', {}, say().passwordFor(username), el('code', { id: 'user-password' }, password)),
    el('p', {}, say().passwordOnce),
  ];
}

/** Adds a person; the server makes their password and answers it this once. */
async function addUser(form, out) {
  const text = (name) => form[name].value.trim() || null;
  const role = form.role.value;
  const made = await postJson('/users', {
    username: form.username.value.trim(),
    role,
    // an admin sees every store: the stores chosen would mean nothing
    stores: role === 'admin' ? [] : chosen(form.stores),
    displayName: text('displayName'),
    email: text('email'),
    phone: text('phone'),
  });
  form.reset();
  out.replaceChildren(...passwordShown(made.user.username, made.password));
  await listUsers();
}

/** Everyone who may log in (and the disabled), each with what an admin can change. */
async function listUsers() {
  const out = byId('users-result');
  const users = await api('/users');
  const when = (t) => (t ? t.slice(0, 16).replace('T', ' ') : '—');
  const act = async (action) => {
    try {
      await action();
      await listUsers();
    } catch (e) {
      out.prepend(errorLine(e));
    }
  };
  const rows = users.map((u) => {
    const change = el('button', { type: 'button', class: 'secondary' }, say().change);
    const toggle = el('button', { type: 'button', class: 'secondary' }, u.disabled ? say().enable : say().disable);
    const reset = el('button', { type: 'button', class: 'secondary' }, say().newPassword);
    const row = el(
      'tr',
      { 'data-user': u.username },
      el('td', {}, u.username),
      el('td', {}, u.displayName ?? ''),
      el('td', {}, say()[u.role] ?? u.role),
      el('td', {}, u.role === 'admin' ? say().everyStore : u.stores.join(', ')),
      el('td', {}, u.disabled ? say().disabled : say().active),
      el('td', {}, when(u.lastLoginAt)),
      el('td', {}, change, toggle, reset),
    );
    toggle.addEventListener('click', () => {
      if (!u.disabled && !confirm(say().disableConfirm(u.username))) return;
      void act(() => sendJson('PATCH', `/users/${encodeURIComponent(u.username)}`, { disabled: !u.disabled }));
    });
    reset.addEventListener('click', async () => {
      if (!confirm(say().newPasswordConfirm(u.username))) return;
      const password = newPassword();
      try {
        await sendJson('PUT', `/users/${encodeURIComponent(u.username)}/password`, { password });
        byId('user-made').replaceChildren(...passwordShown(u.username, password));
      } catch (e) {
        out.prepend(errorLine(e));
      }
    });
    // a second click folds the change away again
    change.addEventListener('click', () => {
      const open = row.nextElementSibling;
      if (open?.getAttribute('data-change') === u.username) open.remove();
      else row.after(changeRow(u, act));
    });
    return row;
  });
  out.replaceChildren(rowsTable('users-table', heads(say().userHead), rows));
}

/** A row under a user's, to change their role and stores. */
function changeRow(u, act) {
  const role = el(
    'select',
    { name: 'role' },
    ...['clerk', 'manager', 'admin'].map((r) => {
      const o = el('option', { value: r }, say()[r]);
      o.selected = r === u.role;
      return o;
    }),
  );
  const stores = el(
    'select',
    { name: 'stores', multiple: '', size: '3' },
    ...Array.from(/** @type {HTMLSelectElement} */ (byId('user-stores')).options, (o) => {
      const c = el('option', { value: o.value }, o.textContent ?? o.value);
      c.selected = u.stores.includes(o.value);
      return c;
    }),
  );
  const form = el(
    'form',
    { class: 'user-change' },
    el('label', {}, `${say().role} `, role),
    el('label', {}, `${say().stores} `, stores),
    el('button', { type: 'submit' }, say().save),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const body = { role: role.value, stores: role.value === 'admin' ? [] : chosen(stores) };
    void act(() => sendJson('PATCH', `/users/${encodeURIComponent(u.username)}`, body));
  });
  return el('tr', { 'data-change': u.username }, el('td', { colspan: '7' }, form));
}

/** The store's restock orders of a status, each one openable. */
async function listRestockOrders(form, out, keepOrder = false) {
  if (!keepOrder) byId('restock-order').replaceChildren();
  const query = new URLSearchParams({ store: form.store.value, status: form.status.value, limit: '50' });
  const orders = await api(`/restock-orders?${query}`);
  if (orders.length === 0) {
    out.replaceChildren(el('p', {}, say().noOrders));
    return;
  }
  const rows = orders.map((o) => {
    const open = el('button', { type: 'button', class: 'secondary' }, say().open);
    open.addEventListener('click', () => showOrder(o.id));
    return el(
      'tr',
      { 'data-order': String(o.id) },
      el('td', { class: 'num' }, String(o.id)),
      el('td', {}, o.supplier),
      el('td', {}, `${say().orderStatus[o.status] ?? o.status}${o.pendingChanges ? say().awaiting : ''}`),
      el('td', { class: 'num' }, String(o.lineCount)),
      el('td', {}, o.updatedAt.slice(0, 16).replace('T', ' ')),
      el('td', {}, open),
    );
  });
  out.replaceChildren(rowsTable('restock-orders', heads(say().orderHead), rows));
}

/**
 * One order: its lines with why each quantity, approval for a draft (or for changes made after it was sent), and a
 * delivery received against it, line by line, once it is issued.
 */
async function showOrder(id, note = '') {
  const out = byId('restock-order');
  const fail = (e) => out.prepend(errorLine(e));
  let o;
  try {
    o = await api(`/restock-orders/${id}`);
  } catch (e) {
    out.replaceChildren();
    return fail(e);
  }
  const receiving = o.status === 'issued' || o.status === 'partially_received';
  const parts = [
    el('h3', {}, say().orderTitle(o)),
    el(
      'p',
      {},
      say().statusColon,
      el('span', { id: 'order-status' }, say().orderStatus[o.status] ?? o.status),
      o.revision > 0 ? say().revisionSent(o) : '',
      o.pendingChanges ? say().changesAwait : '',
    ),
  ];
  if (note) {
    parts.push(el('p', { class: 'status loaded' }, note));
    // the list above shows the order's new status too
    await listRestockOrders(byId('restock-form'), byId('restock-result'), true);
  }
  const lines = rowsTable(
    'order-lines',
    [
      ...say().lineHead.map((h, i) => el('th', i >= 2 && i <= 4 ? { class: 'num' } : {}, h)),
      ...(receiving ? [el('th', { class: 'num' }, say().arrivedNow)] : []),
    ],
    o.lines.map((l) =>
      el(
        'tr',
        {},
        el('td', {}, l.sku),
        el('td', {}, l.name),
        el('td', { class: 'num' }, decimal.format(l.quantity)),
        el('td', { class: 'num' }, decimal.format(l.received)),
        el('td', { class: 'num' }, decimal.format(l.outstanding)),
        el('td', {}, l.rationale?.explanation ?? ''),
        ...(receiving
          ? [
              el(
                'td',
                { class: 'num' },
                el('input', {
                  name: `arrived-${l.sku}`,
                  'data-sku': l.sku,
                  value: String(l.outstanding),
                  inputmode: 'decimal',
                  size: '6',
                  'aria-label': say().arrivedLabel(l.sku),
                }),
              ),
            ]
          : []),
      ),
    ),
  );
  if (!receiving) parts.push(lines);
  const canApprove = (o.status === 'draft' || o.pendingChanges) && manages;
  if (canApprove) {
    const approve = el('button', { type: 'button', id: 'order-approve' }, say().approve);
    approve.addEventListener('click', async () => {
      try {
        await api(`/restock-orders/${o.id}/approve`, { method: 'POST' });
        await showOrder(o.id, say().approved);
      } catch (e) {
        fail(e);
      }
    });
    parts.push(el('p', {}, approve));
  }
  if (receiving) {
    const form = el(
      'form',
      { id: 'receive-form' },
      lines,
      el('label', {}, say().deliveryNote, el('input', { name: 'reference', required: '', maxlength: '64' })),
      el('button', { type: 'submit' }, say().receive),
    );
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const arrived = [...form.querySelectorAll('input[data-sku]')]
        .map((i) => ({
          sku: i.getAttribute('data-sku'),
          quantity: decimalText(/** @type {HTMLInputElement} */ (i).value),
        }))
        .filter((l) => l.quantity !== '' && Number(l.quantity) > 0);
      try {
        if (arrived.length === 0) throw new Error(say().enterArrived);
        const r = await postJson(`/restock-orders/${o.id}/receive`, {
          lines: arrived,
          reference: form.reference.value.trim(),
        });
        await showOrder(o.id, say().receivedNote(r.reference));
      } catch (e) {
        fail(e);
      }
    });
    parts.push(form);
  }
  out.replaceChildren(...parts);
}

/** Generates a report into the reports bucket and offers it, with the store's other recent reports. */
async function generateReport(form, out) {
  out.replaceChildren(el('p', {}, say().generating));
  const store = form.store.value;
  const body = {
    kind: form.kind.value,
    date: form.from.value,
    format: form.format.value,
    ...(store ? { store } : {}),
    // stock reports show the stock as it is now: no period end
    ...(form.to.value && !STOCK_REPORTS.includes(form.kind.value) ? { to: form.to.value } : {}),
  };
  const made = await postJson('/reports', body);
  const recent = await api(`/reports?limit=10${store ? `&store=${encodeURIComponent(store)}` : ''}`);
  const period = (r) => (r.from === r.to ? r.from : say().periodTo(r.from, r.to));
  out.replaceChildren(
    el('p', {}, el('a', { href: made.download, id: 'report-download' }, say().download(made.key))),
    el('h3', {}, say().recentReports),
    table(
      'recent-reports',
      say().reportHead,
      recent.map((r) => [
        r.kind,
        r.store ?? say().chain,
        period(r),
        r.format,
        r.createdAt.slice(0, 16).replace('T', ' '),
      ]),
    ),
  );
}

/** Days in a period, both ends included. */
function days(period) {
  return Math.round((Date.parse(period.to) - Date.parse(period.from)) / 86_400_000) + 1;
}

start();
