// Payment methods as stores write them, in English or Portuguese.
export const PAYMENT_METHODS = ['cash', 'debit', 'credit', 'pix', 'voucher', 'other'] as const;
export type PaymentMethod = (typeof PAYMENT_METHODS)[number];

const ALIASES: Record<string, PaymentMethod> = {
  cash: 'cash',
  dinheiro: 'cash',
  especie: 'cash',
  debit: 'debit',
  debito: 'debit',
  cartaodebito: 'debit',
  credit: 'credit',
  credito: 'credit',
  cartaocredito: 'credit',
  pix: 'pix',
  voucher: 'voucher',
  vale: 'voucher',
  valealimentacao: 'voucher',
  valerefeicao: 'voucher',
  other: 'other',
  outros: 'other',
  outro: 'other',
};

export function foldText(s: string): string {
  return s
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[\s_.-]+/g, '');
}

export function parsePaymentMethod(text: string): PaymentMethod | undefined {
  return ALIASES[foldText(text)];
}
