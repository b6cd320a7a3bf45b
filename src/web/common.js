// What both pages (app.js, kiosk.js) build with: elements from text, the API's problem answers, Brazilian number
// formats, the language a page speaks.
export const money = new Intl.NumberFormat('pt-BR', { style: 'currency', currency: 'BRL' });
export const decimal = new Intl.NumberFormat('pt-BR', { maximumFractionDigits: 3 });

export const byId = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

/** An element with attributes and children (strings become text nodes, never markup). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  node.append(...children.map((c) => (typeof c === 'string' ? document.createTextNode(c) : c)));
  return node;
}

/** An API call that was answered with an error status (`body`: the answer, a problem+json object or text). */
export class ApiError extends Error {
  constructor(message, status, body = undefined) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

/** What a problem+json answer says, with the fields it names. */
export function problemText(body, status) {
  if (body && typeof body === 'object') {
    const fields = (body.errors ?? []).map((e) => `${e.where}: ${e.problem}`).join('; ');
    return `${body.detail ?? body.title ?? `error ${status}`}${fields ? ` (${fields})` : ''}`;
  }
  return `error ${status}${body ? `: ${body}` : ''}`;
}

/** The language a browser asks for, as far as the pages speak it: Portuguese or English. */
export function browserLang() {
  return (navigator.language ?? '').toLowerCase().startsWith('pt') ? 'pt' : 'en';
}

/** The BCP 47 tag of a page's language, for the document and for dates. */
export const LOCALE = { pt: 'pt-BR', en: 'en-GB' };

/** Puts the fixed texts of a page (its elements with a data-text attribute) in a language's words. */
export function putTexts(words, lang) {
  document.documentElement.lang = LOCALE[lang];
  for (const node of document.querySelectorAll('[data-text]')) {
    node.textContent = words[/** @type {HTMLElement} */ (node).dataset.text ?? ''];
  }
}
