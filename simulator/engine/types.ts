export type Side = 'BUY' | 'SELL';
export type MarginType = 'CROSSED' | 'ISOLATED';

export interface Position {
  readonly symbol: string;
  /** Signed: positive long, negative short (one-way mode). */
  amt: number;
  entryPrice: number;
  /** Margin set aside for an isolated position. */
  isolatedWallet: number;
  /** Realized PnL accumulated on this symbol ("cr" on the stream). */
  accumulatedRealized: number;
  updateTime: number;
}

export interface Order {
  readonly orderId: number;
  readonly clientOrderId: string;
  readonly symbol: string;
  readonly side: Side;
  readonly type: 'MARKET' | 'LIMIT';
  /** LIMIT/MARKET, or LIQUIDATION, or the algo type that created it. */
  readonly origType: string;
  readonly origQty: number;
  readonly price: number;
  readonly timeInForce: string;
  readonly reduceOnly: boolean;
  readonly closePosition: boolean;
  readonly stopPrice: number;
  readonly workingType: string;
  status: 'NEW' | 'PARTIALLY_FILLED' | 'FILLED' | 'CANCELED' | 'EXPIRED';
  executedQty: number;
  cumQuote: number;
  readonly time: number;
  updateTime: number;
}

export type AlgoStatus = 'NEW' | 'TRIGGERING' | 'TRIGGERED' | 'FINISHED' | 'CANCELED' | 'EXPIRED' | 'REJECTED';

export interface AlgoOrder {
  readonly algoId: number;
  readonly clientAlgoId: string;
  readonly symbol: string;
  readonly side: Side;
  readonly orderType: 'STOP_MARKET' | 'TAKE_PROFIT_MARKET' | 'STOP' | 'TAKE_PROFIT';
  readonly quantity: number;
  readonly price: number;
  readonly triggerPrice: number;
  readonly timeInForce: string;
  readonly workingType: string;
  readonly closePosition: boolean;
  readonly reduceOnly: boolean;
  readonly priceProtect: boolean;
  algoStatus: AlgoStatus;
  readonly createTime: number;
  updateTime: number;
  triggerTime: number;
  actualOrderId: number | undefined;
  actualPrice: number;
  actualQty: number;
  rejectReason: string;
}

export interface Trade {
  readonly id: number;
  readonly orderId: number;
  readonly symbol: string;
  readonly side: Side;
  readonly price: number;
  readonly qty: number;
  readonly quoteQty: number;
  readonly commission: number;
  readonly realizedPnl: number;
  readonly maker: boolean;
  readonly time: number;
}

export interface SymbolSettings {
  leverage: number;
  marginType: MarginType;
}

export interface SimAccount {
  readonly id: string;
  /** The account's API key pair: replaced by `rotateKey`, as a person makes a new key on Binance and deletes the old one. */
  apiKey: string;
  apiSecret: string;
  /** USDT wallet balance: deposits + realized PnL − fees. */
  wallet: number;
  readonly positions: Map<string, Position>;
  readonly settings: Map<string, SymbolSettings>;
  readonly orders: Map<number, Order>;
  readonly algoOrders: Map<number, AlgoOrder>;
  readonly trades: Trade[];
  /** Funding payments (positive: received), as `GET /fapi/v1/income` lists them with FUNDING_FEE. */
  readonly funding: FundingPayment[];
  /** Times of recent new orders, for the per-account order limits. */
  readonly orderTimes: number[];
  ordersPlaced: number;
  updateTime: number;
}

export interface FundingPayment {
  readonly tranId: number;
  readonly symbol: string;
  /** USDT, at 8 decimals: −position × mark × rate. */
  readonly amount: number;
  readonly time: number;
}

/** What the engine tells the user data streams. */
export type EngineEvent =
  | { kind: 'order'; account: SimAccount; order: Order; execution: 'NEW' | 'TRADE' | 'CANCELED' | 'EXPIRED'; trade?: Trade }
  | { kind: 'algo'; account: SimAccount; algo: AlgoOrder }
  | { kind: 'account'; account: SimAccount; reason: string; symbols: string[] };
