// When a product's stock calls for attention.

export type StockState = 'ok' | 'low' | 'negative';

/** low: at or below the reorder point · negative: below zero (a count is due) · ok otherwise or without a level */
export function stockState(onHandMilli: number, reorderPointMilli: number | null): StockState {
  if (onHandMilli < 0) return 'negative';
  if (reorderPointMilli !== null && onHandMilli <= reorderPointMilli) return 'low';
  return 'ok';
}
