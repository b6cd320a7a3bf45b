// What the self-checkout terminal says, in Brazilian Portuguese (the chain's customers) and in English. The page's
// fixed texts are the elements with a data-text attribute naming their entry; the rest is built by kiosk.js.

/** @typedef {'pt' | 'en'} Lang */

export const TEXT = {
  pt: {
    title: 'Autoatendimento',
    otherLanguage: 'English',
    unpair: 'Desvincular terminal',
    pairTitle: 'Configurar este terminal',
    pairHelp: 'Um gerente informa um token de quiosque feito para a loja, na página dos funcionários ou com',
    pairKeep: 'O terminal o guarda até ser desvinculado.',
    tokenLabel: 'Token do quiosque',
    languageLabel: 'Idioma do terminal',
    pairButton: 'Usar este terminal',
    scanLabel: 'Passe ou digite o código de barras',
    add: 'Adicionar',
    leaveOut: 'Deixar de fora',
    product: 'Produto',
    quantity: 'Quantidade',
    price: 'Preço',
    amount: 'Valor',
    total: 'Total',
    payWith: 'Pagar com',
    debit: 'Cartão de débito',
    credit: 'Cartão de crédito',
    pix: 'Pix',
    voucher: 'Vale-refeição',
    cash: 'Dinheiro',
    unresolved:
      'A resposta do pagamento não chegou: esta compra pode ter sido registrada ou não. Tentar de novo é seguro: ela é registrada uma vez só, aconteça o que tiver acontecido.',
    retry: 'Tentar de novo',
    clear: 'Recomeçar',
    thanks: 'Obrigado!',
    purchase: 'Compra',
    receipt: 'cupom',
    next: 'Nova compra',
    remove: 'Remover',
    store: (code) => `Loja ${code}`,
    removeLabel: (name) => `Remover ${name}`,
    weightOf: (name) => `Peso de ${name} em kg`,
    noProduct: (code) => `${code}: nenhum produto tem este código`,
    notWeight: (typed) => `"${typed}" não é um peso em kg (por exemplo 0,350)`,
    notAccepted:
      'o token deste terminal não é aceito (desconhecido ou revogado): um gerente precisa vinculá-lo de novo',
    notKiosk: (purpose) =>
      purpose
        ? `este é um token de ${purpose === 'upload' ? 'envio de arquivos' : purpose}, não de quiosque`
        : 'este não é um token de quiosque',
    noStock: (names) => `estoque insuficiente de ${names}: retire da compra ou chame um funcionário`,
    refused: (message) => `A compra foi recusada: ${message}`,
    serverError: (message) => `O servidor não conseguiu responder: ${message}`,
    noAnswer: 'Sem resposta do servidor.',
    unpairPending:
      'Um pagamento ainda não teve resposta. Desvincular mesmo assim? Ele pode ter sido registrado ou não.',
    cannotStart: (message) => `O terminal não conseguiu iniciar: ${message}`,
  },
  en: {
    title: 'Self-checkout',
    otherLanguage: 'Português',
    unpair: 'Unpair terminal',
    pairTitle: 'Set up this terminal',
    pairHelp: "A manager enters a kiosk token made for the store, on the employees' page or with",
    pairKeep: 'The terminal keeps it until it is unpaired.',
    tokenLabel: 'Kiosk token',
    languageLabel: "Terminal's language",
    pairButton: 'Use this terminal',
    scanLabel: 'Scan or type a barcode',
    add: 'Add',
    leaveOut: 'Leave it out',
    product: 'Product',
    quantity: 'Quantity',
    price: 'Price',
    amount: 'Amount',
    total: 'Total',
    payWith: 'Pay with',
    debit: 'Debit card',
    credit: 'Credit card',
    pix: 'Pix',
    voucher: 'Meal voucher',
    cash: 'Cash',
    unresolved:
      "The payment's answer did not arrive, so this purchase may or may not be recorded. Trying again is safe: it is recorded once, whatever happened.",
    retry: 'Try again',
    clear: 'Start over',
    thanks: 'Thank you!',
    purchase: 'Purchase',
    receipt: 'receipt',
    next: 'New purchase',
    remove: 'Remove',
    store: (code) => `Store ${code}`,
    removeLabel: (name) => `Remove ${name}`,
    weightOf: (name) => `Weight of ${name} in kg`,
    noProduct: (code) => `${code}: no product has this code`,
    notWeight: (typed) => `"${typed}" is not a weight in kg (for example 0.350)`,
    notAccepted: "this terminal's token is not accepted (unknown or revoked): a manager must pair it again",
    notKiosk: (purpose) => (purpose ? `this is an ${purpose} token, not a kiosk token` : 'this is not a kiosk token'),
    noStock: (names) => `not enough stock of ${names}: take it out of the purchase or ask a member of staff`,
    refused: (message) => `The purchase was refused: ${message}`,
    serverError: (message) => `The server could not answer: ${message}`,
    noAnswer: 'No answer from the server.',
    unpairPending: 'A payment has no answer yet. Unpair anyway? It may or may not be recorded.',
    cannotStart: (message) => `The terminal could not start: ${message}`,
  },
};

/** The language a browser asks for, as far as the terminal speaks it. */
export function browserLang() {
  return (navigator.language ?? '').toLowerCase().startsWith('pt') ? 'pt' : 'en';
}

/** The BCP 47 tag of a language, for the page and for dates. */
export const LOCALE = { pt: 'pt-BR', en: 'en-GB' };
