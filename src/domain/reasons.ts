// Why something a person sent was refused — a sales file's line or the file itself, a line of a count, a goods
// receipt or a transfer — and what an alert tells a store's manager: a code and its values, said in the language of
// whoever reads it. The stores' clerks read
// Portuguese, the chain's office and its tools English. The English text is what the file record, the CLI and the
// bucket's errors.csv carry; a Portuguese reader is told the same from the code and values kept beside it.

export type Lang = 'en' | 'pt';
export type ReasonParams = Record<string, string | number>;

/** the words of a number column, as a reason names it */
const FIELD = {
  quantity: { en: 'quantity', pt: 'quantidade' },
  unit_price: { en: 'unit price', pt: 'preço unitário' },
  discount: { en: 'discount', pt: 'desconto' },
  total: { en: 'total', pt: 'total' },
} as const;
export type NumberField = keyof typeof FIELD;

/** Why a number could not be read (see parseScaled). */
export type NumberProblem = 'empty' | 'not_number' | 'decimals' | 'too_large';
/** Why a barcode is not one (see validateGtin). */
export type BarcodeProblem = 'digits' | 'length' | 'check_digit';

/** a quantity in units or kg as a language writes it: 2.5 / 2,5 */
export const units = (n: unknown, lang: Lang) => (lang === 'pt' ? String(n).replace('.', ',') : String(n));

/** cents as a decimal amount in a language's form: 1234.50 / 1234,50 */
function amount(cents: number, lang: Lang): string {
  const abs = Math.abs(cents);
  const text = `${Math.floor(abs / 100)}${lang === 'pt' ? ',' : '.'}${String(abs % 100).padStart(2, '0')}`;
  return cents < 0 ? `-${text}` : text;
}

const share = (percent: number, lang: Lang) =>
  lang === 'pt' ? percent.toFixed(1).replace('.', ',') : percent.toFixed(1);

const numberProblem = (p: ReasonParams, lang: Lang): string => {
  const why = p.why as NumberProblem;
  if (lang === 'pt') {
    const field = FIELD[p.field as NumberField].pt;
    if (why === 'empty') return `${field}: valor vazio`;
    if (why === 'not_number') return `${field}: não é um número (exemplo: ${p.example})`;
    if (why === 'decimals') return `${field}: mais de ${p.scale} casas decimais`;
    return `${field}: número grande demais`;
  }
  const field = FIELD[p.field as NumberField].en;
  if (why === 'empty') return `${field} is empty`;
  if (why === 'not_number') return `${field} is not a number (expected e.g. ${p.example})`;
  if (why === 'decimals') return `${field} has more than ${p.scale} decimal places`;
  return `${field} is too large`;
};

const barcodeProblem = (p: ReasonParams, lang: Lang): string => {
  const why = p.why as BarcodeProblem;
  if (lang === 'pt') {
    if (why === 'digits') return 'o código de barras deve ter só dígitos';
    if (why === 'length') return 'o código de barras deve ter 8, 12, 13 ou 14 dígitos';
    return `o dígito verificador do código de barras está errado (esperado ${p.expected})`;
  }
  if (why === 'digits') return 'barcode must contain digits only';
  if (why === 'length') return 'barcode must have 8, 12, 13 or 14 digits';
  return `barcode check digit is wrong (expected ${p.expected})`;
};

type Say = (p: ReasonParams, lang: Lang) => string;
/** a reason without values: its two sentences */
const fixed =
  (en: string, pt: string): Say =>
  (_p, lang) =>
    lang === 'pt' ? pt : en;

const REASONS = {
  // a line
  store_mismatch: (p, lang) =>
    lang === 'pt'
      ? `a loja ${p.store} não é a loja deste arquivo (${p.fileStore})`
      : `store ${p.store} is not the store of this file (${p.fileStore})`,
  date_unreadable: fixed('is not a date (YYYY-MM-DD or DD/MM/YYYY)', 'não é uma data (AAAA-MM-DD ou DD/MM/AAAA)'),
  date_mismatch: (p, lang) =>
    lang === 'pt'
      ? `a data ${p.date} não é o dia de movimento deste arquivo (${p.fileDate})`
      : `date ${p.date} is not the business day of this file (${p.fileDate})`,
  receipt_missing: fixed('receipt id is missing', 'falta o número do cupom'),
  receipt_too_long: fixed('receipt id is longer than 64 characters', 'o número do cupom tem mais de 64 caracteres'),
  line_no_invalid: fixed(
    'line number must be a whole number from 1',
    'o número do item deve ser um número inteiro a partir de 1',
  ),
  time_unreadable: fixed(
    'is not a time (HH:MM[:SS], YYYY-MM-DDTHH:MM or DD/MM/YYYY HH:MM)',
    'não é um horário (HH:MM[:SS], AAAA-MM-DDTHH:MM ou DD/MM/AAAA HH:MM)',
  ),
  sku_unknown: (p, lang) =>
    lang === 'pt' ? `o produto ${p.sku} não está no cadastro` : `product ${p.sku} is not in the catalogue`,
  barcode_invalid: barcodeProblem,
  barcode_other_product: (p, lang) =>
    lang === 'pt'
      ? `o código de barras é do produto ${p.owner}, não do ${p.sku}`
      : `barcode belongs to product ${p.owner}, not to ${p.sku}`,
  barcode_unknown: fixed(
    'no product in the catalogue has this barcode',
    'nenhum produto do cadastro tem este código de barras',
  ),
  no_gtin_needs_sku: fixed('SEM GTIN needs a product code (sku)', 'SEM GTIN exige o código do produto (sku)'),
  product_missing: fixed(
    'product code (sku) or barcode (ean) is missing',
    'falta o código do produto (sku) ou o código de barras (ean)',
  ),
  number_invalid: numberProblem,
  quantity_zero: fixed('quantity is zero', 'a quantidade é zero'),
  quantity_too_large: fixed('quantity is implausibly large', 'a quantidade é grande demais para ser verdadeira'),
  quantity_not_whole: (p, lang) =>
    lang === 'pt'
      ? `o produto ${p.sku} é vendido por unidade: a quantidade deve ser inteira`
      : `product ${p.sku} is sold by unit: quantity must be whole`,
  price_negative: fixed('unit price is negative', 'o preço unitário é negativo'),
  price_too_large: fixed('unit price is implausibly large', 'o preço unitário é grande demais para ser verdadeiro'),
  discount_negative: fixed('discount is negative', 'o desconto é negativo'),
  total_mismatch: (p, lang) =>
    lang === 'pt'
      ? `o total não confere com quantidade × preço unitário − desconto (esperado ${amount(Number(p.expectedCents), lang)})`
      : `total does not match quantity × unit price − discount (expected ${amount(Number(p.expectedCents), lang)})`,
  payment_unknown: fixed(
    'unknown payment method (dinheiro, debito, credito, pix, vale, outros)',
    'forma de pagamento desconhecida (dinheiro, debito, credito, pix, vale, outros)',
  ),
  field_count: (p, lang) =>
    lang === 'pt'
      ? `a linha tem ${p.fields} campos, mas o cabeçalho tem ${p.width}`
      : `the line has ${p.fields} fields but the header has ${p.width}`,
  duplicate_line: (p, lang) =>
    lang === 'pt'
      ? `o cupom ${p.receipt} já tem um item ${p.lineNo} neste arquivo`
      : `receipt ${p.receipt} already has a line ${p.lineNo} in this file`,

  // the file as a whole
  data_after_trailer: (p, lang) =>
    lang === 'pt'
      ? `a linha ${p.trailerLine} é uma linha TOTAL, mas há dados depois dela, na linha ${p.line}: o arquivo está danificado`
      : `line ${p.trailerLine} is a TOTAL line but data follows it on line ${p.line}: the file is damaged`,
  trailer_unreadable: (p, lang) =>
    lang === 'pt'
      ? `a linha TOTAL (linha ${p.line}) não traz uma soma legível na coluna total`
      : `the TOTAL line (line ${p.line}) has no readable sum in the total column`,
  trailer_mismatch: (p, lang) =>
    lang === 'pt'
      ? `a linha TOTAL (linha ${p.line}) diz ${amount(Number(p.declaredCents), lang)}, mas as linhas somam ${amount(Number(p.sumCents), lang)}: o arquivo está truncado ou foi alterado`
      : `the TOTAL line (line ${p.line}) says ${amount(Number(p.declaredCents), lang)} but the lines add up to ${amount(Number(p.sumCents), lang)}: the file is truncated or altered`,
  no_lines: fixed('the file has a header but no sales lines', 'o arquivo tem cabeçalho, mas nenhuma linha de venda'),
  too_many_rejected: (p, lang) => {
    const rejected = Number(p.rejected);
    const total = Number(p.total);
    const part = share((rejected / total) * 100, lang);
    const allowed = share(Number(p.allowed) * 100, lang);
    return lang === 'pt'
      ? `${rejected} de ${total} linhas (${part}%) foram recusadas, mais que os ${allowed}% permitidos: nada foi carregado`
      : `${rejected} of ${total} lines (${part}%) were rejected, more than the ${allowed}% allowed: nothing was loaded`;
  },
  empty_file: fixed(
    'the file is empty: a header line naming the columns is required',
    'o arquivo está vazio: é preciso uma linha de cabeçalho com os nomes das colunas',
  ),
  not_a_header: (p, lang) => {
    const oneCell = Number(p.cells) === 1;
    return lang === 'pt'
      ? `a linha ${p.line} não parece um cabeçalho CSV: nenhuma célula é um nome de coluna conhecido${oneCell ? ' (e não há `,`, `;` ou tabulação entre os nomes)' : ' (falta a linha de cabeçalho?)'}. ` +
          `Colunas esperadas, como ${p.expected}; encontradas ${p.found}`
      : `line ${p.line} does not look like a CSV header: none of its cells is a known column name${oneCell ? ' (and it has no `,`, `;` or tab between names)' : ' (is the header line missing?)'}. ` +
          `Expected columns such as ${p.expected}; found ${p.found}`;
  },
  header_unusable: (p, lang) => {
    const parts: string[] = [];
    if (p.missing)
      parts.push(
        lang === 'pt' ? `faltam colunas obrigatórias: ${p.missing}` : `required column(s) missing: ${p.missing}`,
      );
    if (Number(p.twice)) parts.push(lang === 'pt' ? 'uma coluna aparece duas vezes' : 'a column appears twice');
    return lang === 'pt'
      ? `o cabeçalho (linha ${p.line}) não pode ser usado: ${parts.join('; ')}. O cabeçalho tem: ${p.found}`
      : `the header (line ${p.line}) is not usable: ${parts.join('; ')}. The header has: ${p.found}`;
  },
  unclosed_quote: (p, lang) =>
    lang === 'pt'
      ? `linha ${p.line}: um campo entre aspas nunca é fechado (o arquivo termina dentro das aspas)`
      : `line ${p.line}: a quoted field is never closed (the file ends inside quotes)`,
  record_too_long: (p, lang) =>
    lang === 'pt'
      ? `linha ${p.line}: o registro tem mais de ${p.max} bytes (muitas vezes, aspas que nunca se fecham)`
      : `line ${p.line}: the record is longer than ${p.max} bytes (often a quote that is never closed)`,
  nul_character: (p, lang) =>
    lang === 'pt'
      ? `linha ${p.line}: o arquivo contém um caractere NUL: não é um arquivo de texto`
      : `line ${p.line}: the file contains a NUL character: it is not a text file`,
  not_text: (p, lang) =>
    lang === 'pt'
      ? `este não é um arquivo CSV de texto (um byte NUL na posição ${p.offset}): exporte-o de novo como CSV`
      : `this is not a text CSV file (a NUL byte at offset ${p.offset}): export it again as CSV`,
  file_too_large: (p, lang) =>
    lang === 'pt'
      ? `o arquivo tem mais de ${p.max} bytes${Number(p.gzip) ? ' depois de descompactado' : ''}; divida-o ou aumente o limite`
      : `the file is larger than ${p.max} bytes${Number(p.gzip) ? ' once decompressed' : ''}; split it or raise the limit`,
  not_gzip: (p, lang) =>
    lang === 'pt' ? `o arquivo não é um gzip válido (${p.detail})` : `the file is not valid gzip (${p.detail})`,
  store_unknown: (p, lang) =>
    lang === 'pt'
      ? `a loja ${p.store} não está cadastrada: cadastre-a primeiro (shopflow stores import)`
      : `store ${p.store} is not registered: add it first (shopflow stores import)`,
  store_selfservice: (p, lang) =>
    lang === 'pt'
      ? `a loja ${p.store} é de autoatendimento: as vendas dela são registradas pelos caixas de autoatendimento, e um arquivo de vendas as contaria duas vezes`
      : `store ${p.store} is a self-service store: its sales are recorded by its checkouts, so a sales file would count them twice`,
  object_gone: fixed('the object no longer exists in the bucket', 'o objeto não existe mais no bucket'),
  // a line of a count, a receipt or a transfer (what the employees' page sends)
  product_unknown: (p, lang) =>
    lang === 'pt' ? `não há produto com o SKU ${p.sku}` : `there is no product with SKU ${p.sku}`,
  product_repeated: (p, lang) =>
    lang === 'pt'
      ? `${p.sku} já está na linha ${p.first}: uma linha por produto`
      : `${p.sku} is already on line ${p.first}: one line per product`,
  qty_not_number: fixed('is not a number', 'não é um número'),
  qty_negative: fixed('must not be negative', 'não pode ser negativa'),
  qty_not_plain: (p, lang) =>
    lang === 'pt'
      ? `"${p.text}" não é um número decimal simples (por exemplo 1.5)`
      : `"${p.text}" is not a plain decimal number (e.g. 1.5)`,
  qty_decimals: (p, lang) =>
    lang === 'pt' ? `"${p.text}" tem mais de 3 casas decimais` : `"${p.text}" has more than 3 decimal places`,
  qty_too_large: fixed('is too large', 'é grande demais'),
  qty_zero: fixed('must be more than zero', 'deve ser maior que zero'),
  qty_not_whole: fixed(
    'must be a whole number: the product is sold by unit',
    'deve ser um número inteiro: o produto é vendido por unidade',
  ),
  only_on_hand: (p, lang) =>
    lang === 'pt' ? `só ${units(p.available, lang)} em estoque` : `only ${p.available} on hand`,
  not_enough_to_send: (p, lang) => {
    const items = (JSON.parse(String(p.items)) as Array<[string, string, number, number]>).map(
      ([name, sku, asked, available]) =>
        lang === 'pt'
          ? `${name} (${sku}): ${units(asked, lang)} pedidos, ${units(available, lang)} em estoque`
          : `${name} (${sku}): ${asked} asked, ${available} on hand`,
    );
    return lang === 'pt'
      ? `a loja ${p.store} não tem o suficiente para enviar: ${items.join('; ')}`
      : `store ${p.store} does not have enough to send: ${items.join('; ')}`;
  },

  // logging in
  logins_throttled: (p, lang) =>
    lang === 'pt'
      ? `tentativas de entrar erradas demais: tente de novo em ${p.seconds} s`
      : `too many failed logins: try again in ${p.seconds} s`,
  attempts_throttled: (p, lang) =>
    lang === 'pt'
      ? `tentativas erradas demais: tente de novo em ${p.seconds} s`
      : `too many failed attempts: try again in ${p.seconds} s`,

  // what is wrong with a field (src/users, and the request schema's complaints in src/server/problem.ts)
  required: fixed('is required', 'é obrigatório'),
  not_allowed: fixed('is not allowed', 'não é permitido'),
  is_invalid: fixed('is invalid', 'é inválido'),
  one_of: (p, lang) => (lang === 'pt' ? `deve ser um destes: ${p.choices}` : `must be one of ${p.choices}`),

  // people and tokens (src/users): a sentence, and the field problems beside it
  username_invalid: (p, lang) =>
    lang === 'pt' ? `"${p.username}" não é um nome de usuário válido` : `"${p.username}" is not a valid username`,
  username_shape: fixed(
    '2–64 characters: letters, digits, . _ @ -, starting with a letter or digit',
    '2 a 64 caracteres: letras, algarismos, . _ @ -, começando por letra ou algarismo',
  ),
  role_unknown: (p, lang) => (lang === 'pt' ? `"${p.role}" não é um papel` : `"${p.role}" is not a role`),
  purpose_unknown: (p, lang) =>
    lang === 'pt' ? `"${p.purpose}" não é uma finalidade de token` : `"${p.purpose}" is not a token purpose`,
  email_invalid: fixed('the e-mail address is not valid', 'o endereço de e-mail não é válido'),
  not_an_email: fixed('is not an e-mail address', 'não é um endereço de e-mail'),
  phone_invalid: fixed('the phone number is not valid', 'o número de telefone não é válido'),
  phone_shape: fixed(
    'digits, spaces, ( ) - and an optional leading +',
    'algarismos, espaços, ( ) - e um + opcional no início',
  ),
  display_name_long: fixed('the display name is too long', 'o nome de exibição é longo demais'),
  label_long: fixed('the label is too long', 'o rótulo é longo demais'),
  at_most_chars: (p, lang) => (lang === 'pt' ? `no máximo ${p.max} caracteres` : `at most ${p.max} characters`),
  role_needs_store: (p, lang) =>
    lang === 'pt'
      ? `um ${p.role === 'manager' ? 'gerente' : 'atendente'} precisa de ao menos uma loja`
      : `a ${p.role} needs at least one store`,
  name_a_store: fixed('must name at least one store', 'deve indicar ao menos uma loja'),
  stores_unknown: (p, lang) =>
    lang === 'pt'
      ? `loja${p.count === 1 ? '' : 's'} desconhecida${p.count === 1 ? '' : 's'}: ${p.codes}`
      : `unknown store${p.count === 1 ? '' : 's'}: ${p.codes}`,
  no_store: (p, lang) => (lang === 'pt' ? `não há loja ${p.codes}` : `no store ${p.codes}`),
  store_missing: (p, lang) => (lang === 'pt' ? `a loja ${p.store} não existe` : `store ${p.store} does not exist`),
  token_needs_store: fixed('a token needs a store', 'um token precisa de uma loja'),
  token_unknown: (p, lang) => (lang === 'pt' ? `o token ${p.id} não existe` : `token ${p.id} does not exist`),
  user_unknown: (p, lang) =>
    lang === 'pt' ? `o usuário ${p.username} não existe` : `user ${p.username} does not exist`,
  user_exists: (p, lang) => (lang === 'pt' ? `o usuário ${p.username} já existe` : `user ${p.username} already exists`),
  taken: fixed('taken', 'já em uso'),
  last_admin: (p, lang) =>
    lang === 'pt'
      ? `${p.username} é o último administrador ativo: crie outro administrador antes`
      : `${p.username} is the last enabled admin: create another admin first`,
  password_short: (p, lang) =>
    lang === 'pt'
      ? `a senha é curta demais: ao menos ${p.min} caracteres`
      : `the password is too short: at least ${p.min} characters`,
  password_long: (p, lang) =>
    lang === 'pt'
      ? `a senha é longa demais: no máximo ${p.max} caracteres`
      : `the password is too long: at most ${p.max} characters`,
  at_least_chars: (p, lang) =>
    lang === 'pt' ? `deve ter ao menos ${p.min} caracteres` : `must have at least ${p.min} characters`,
  at_most_chars_have: (p, lang) =>
    lang === 'pt' ? `deve ter no máximo ${p.max} caracteres` : `must have at most ${p.max} characters`,

  // what an alert says (src/alerts): the record keeps the English sentence, a message says it in its language
  stock_low: (p, lang) =>
    lang === 'pt'
      ? `${p.name} (${p.sku}) na loja ${p.store} está baixo: ${units(p.onHand, lang)} em estoque, ponto de reposição ${units(p.reorderPoint, lang)}`
      : `${p.name} (${p.sku}) at store ${p.store} is low: ${p.onHand} on hand, reorder point ${p.reorderPoint}`,
  stock_negative: (p, lang) =>
    lang === 'pt'
      ? `${p.name} (${p.sku}) na loja ${p.store} está abaixo de zero (${units(p.onHand, lang)}): é preciso uma contagem`
      : `${p.name} (${p.sku}) at store ${p.store} is below zero (${p.onHand}): a stock count is due`,
  file_missing: (p, lang) =>
    lang === 'pt'
      ? `A loja ${p.store} (${p.storeName}) não enviou o arquivo de vendas de ${p.date}, esperado até ${p.dueBy} (${p.timezone})`
      : `Store ${p.store} (${p.storeName}) has not sent its sales file for ${p.date}, due by ${p.dueBy} (${p.timezone})`,
  /** `reason` already said in the language */
  file_failed: (p, lang) =>
    lang === 'pt' ? `O arquivo de vendas ${p.key} falhou: ${p.reason}` : `Sales file ${p.key} failed: ${p.reason}`,

  same_content: (p, lang) =>
    lang === 'pt'
      ? `mesmo conteúdo do arquivo ${p.file}, já carregado para ${p.store} ${p.date}`
      : `same content as file ${p.file} already loaded for ${p.store} ${p.date}`,
  newer_file: (p, lang) =>
    lang === 'pt'
      ? `um arquivo mais novo (${p.file}) foi enviado para ${p.store} ${p.date}`
      : `a newer file (${p.file}) was uploaded for ${p.store} ${p.date}`,
} satisfies Record<string, Say>;

export type ReasonCode = keyof typeof REASONS;

/** A reason as a code and its values; `text` is its English sentence. */
export interface Reason {
  code: ReasonCode;
  params: ReasonParams;
}

export const isReasonCode = (code: string): code is ReasonCode => Object.hasOwn(REASONS, code);

export function describe(code: ReasonCode, params: ReasonParams, lang: Lang): string {
  return REASONS[code](params, lang);
}

/**
 * A stored reason in a language: from its code and values (a database's JSON text, or an alert's details' object)
 * when it has them, else the stored English text (a record written before reasons had codes, or one that has none).
 */
export function sayReason(
  stored: { text: string; code: unknown; params: ReasonParams | string | null | undefined },
  lang: Lang,
): string {
  const { text, code, params } = stored;
  if (lang === 'en' || typeof code !== 'string' || !isReasonCode(code)) return text;
  try {
    return describe(code, typeof params === 'string' ? (JSON.parse(params) as ReasonParams) : (params ?? {}), lang);
  } catch {
    return text;
  }
}
