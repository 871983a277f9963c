/** An error answered as Binance answers it: HTTP status plus `{ code, msg }`. */
export class BinanceError extends Error {
  readonly status: number;
  readonly code: number;
  /** Seconds, sent as `Retry-After` with 429 and 418. */
  retryAfter: number | undefined;

  constructor(status: number, code: number, msg: string, retryAfter?: number) {
    super(msg);
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }

  body(): { code: number; msg: string } {
    return { code: this.code, msg: this.message };
  }
}

/** Binance's codes and messages (reference §A.4), as the exchange words them. */
export const err = {
  internal: () => new BinanceError(500, -1000, 'An unknown error occured while processing the request.'),
  unavailable: (status = 503) => new BinanceError(status, -1001, 'Internal error; unable to process your request. Please try again.'),
  tooManyRequests: (ip: string, limit: number, retryAfter: number) =>
    new BinanceError(
      429,
      -1003,
      `Too many requests; current limit of IP(${ip}) is ${limit} requests per minute. Please use the websocket for live updates to avoid polling the API.`,
      retryAfter,
    ),
  banned: (ip: string, until: number, retryAfter: number) =>
    new BinanceError(
      418,
      -1003,
      `Way too many requests; IP(${ip}) banned until ${until}. Please use the websocket for live updates to avoid bans.`,
      retryAfter,
    ),
  tooManyOrders: (limit: number, interval: string, retryAfter: number) =>
    new BinanceError(429, -1015, `Too many new orders; current limit is ${limit} orders per ${interval}.`, retryAfter),
  timestampOutside: () => new BinanceError(400, -1021, 'Timestamp for this request is outside of the recvWindow.'),
  timestampAhead: () => new BinanceError(400, -1021, "Timestamp for this request was 1000ms ahead of the server's time."),
  badSignature: () => new BinanceError(400, -1022, 'Signature for this request is not valid.'),
  mandatory: (name: string) => new BinanceError(400, -1102, `Mandatory parameter '${name}' was not sent, was empty/null, or malformed.`),
  notRequired: (name: string) => new BinanceError(400, -1106, `Parameter '${name}' sent when not required.`),
  badPrecision: () => new BinanceError(400, -1111, 'Precision is over the maximum defined for this asset.'),
  invalidTif: () => new BinanceError(400, -1115, 'Invalid timeInForce.'),
  invalidOrderType: () => new BinanceError(400, -1116, 'Invalid orderType.'),
  invalidSide: () => new BinanceError(400, -1117, 'Invalid side.'),
  badSymbol: () => new BinanceError(400, -1121, 'Invalid symbol.'),
  invalidListenKey: () => new BinanceError(400, -1125, 'This listenKey does not exist. Please use POST /fapi/v1/listenKey to recreate listenKey'),
  badInterval: () => new BinanceError(400, -1120, 'Invalid interval.'),
  illegalParam: (detail: string) => new BinanceError(400, -1130, `Data sent for parameter '${detail}' is not valid.`),
  recvWindowTooLarge: () => new BinanceError(400, -1131, 'recvWindow must be less than 60000'),
  cancelRejected: () => new BinanceError(400, -2011, 'Unknown order sent.'),
  noSuchOrder: () => new BinanceError(400, -2013, 'Order does not exist.'),
  badApiKeyFormat: () => new BinanceError(401, -2014, 'API-key format invalid.'),
  rejectedKey: (ip: string) => new BinanceError(401, -2015, `Invalid API-key, IP, or permissions for action, request ip: ${ip}`),
  marginInsufficient: () => new BinanceError(400, -2019, 'Margin is insufficient.'),
  wouldTrigger: () => new BinanceError(400, -2021, 'Order would immediately trigger.'),
  maxLeverageRatio: () => new BinanceError(400, -2027, 'Exceeded the maximum allowable position at current leverage.'),
  reduceOnlyRejected: () => new BinanceError(400, -2022, 'ReduceOnly Order is rejected.'),
  qtyLessThanZero: () => new BinanceError(400, -4003, 'Quantity less than or equal to zero.'),
  qtyBelowMin: (min: string) => new BinanceError(400, -4004, `Quantity less than minimum quantity ${min}.`),
  qtyAboveMax: (max: string) => new BinanceError(400, -4005, `Quantity greater than maximum quantity ${max}.`),
  priceBelowMin: () => new BinanceError(400, -4013, 'Price less than min price.'),
  priceNotTick: () => new BinanceError(400, -4014, 'Price not increased by tick size.'),
  qtyNotStep: () => new BinanceError(400, -4023, 'Quantity not increased by step size.'),
  invalidLeverage: (value: string) => new BinanceError(400, -4028, `Leverage ${value} is not valid`),
  invalidDepthLimit: (value: string) => new BinanceError(400, -4021, `'${value}' is not valid depth limit.`),
  priceAboveBand: (cap: string) => new BinanceError(400, -4016, `Limit price can't be higher than ${cap}.`),
  priceBelowBand: (floor: string) => new BinanceError(400, -4024, `Limit price can't be lower than ${floor}.`),
  marketTakeBound: () => new BinanceError(400, -4131, "The counterparty's best price does not meet the PERCENT_PRICE filter limit."),
  fokRejected: () => new BinanceError(400, -5021, 'Due to the order could not be filled immediately, the FOK order has been rejected.'),
  maxStopOrders: () => new BinanceError(400, -4045, 'Reach max stop order limit.'),
  noNeedMarginType: () => new BinanceError(400, -4046, 'No need to change margin type.'),
  marginTypeWithPosition: () => new BinanceError(400, -4048, 'Margin type cannot be changed if there exists position.'),
  marginTypeWithOrders: () => new BinanceError(400, -4047, 'Margin type cannot be changed if there exists open orders.'),
  noNeedPositionSide: () => new BinanceError(400, -4059, 'No need to change position side.'),
  positionSideMismatch: () => new BinanceError(400, -4061, "Order's position side does not match user's setting."),
  duplicateClientId: () => new BinanceError(400, -4116, 'ClientOrderId is duplicated.'),
  useAlgoEndpoint: () => new BinanceError(400, -4120, 'Order type not supported for this endpoint. Please use the Algo Order API endpoints instead.'),
  minNotional: (notional: string) => new BinanceError(400, -4164, `Order's notional must be no smaller than ${notional} (unless you choose reduce only).`),
  gtxRejected: () =>
    new BinanceError(
      400,
      -5022,
      'Due to the order could not be executed as maker, the Post Only order will be rejected. The order will not be recorded in the order history',
    ),
  notFound: () => new BinanceError(404, -1000, 'Not Found'),
} as const;
