/**
 * Binance's request weight of each USDⓈ-M endpoint ats calls (reference §B), from the method,
 * path and parameters, so a request's cost is reserved before it is sent.
 */
export function requestWeight(method: string, path: string, params: URLSearchParams): number {
  const has = (name: string) => params.has(name);
  const p = path.replace(/^.*?(\/(fapi|sapi)\/)/, '$1');
  switch (`${method} ${p}`) {
    case 'GET /fapi/v1/premiumIndex':
      return has('symbol') ? 1 : 10;
    case 'GET /fapi/v1/ticker/24hr':
      return has('symbol') ? 1 : 40;
    case 'GET /fapi/v1/ticker/price':
      return has('symbol') ? 1 : 2;
    case 'GET /fapi/v1/klines': {
      const limit = Number(params.get('limit') ?? 500);
      return limit < 100 ? 1 : limit < 500 ? 2 : limit <= 1000 ? 5 : 10;
    }
    case 'GET /fapi/v1/openOrders':
    case 'GET /fapi/v1/openAlgoOrders':
      return has('symbol') ? 1 : 40;
    case 'GET /fapi/v3/account':
    case 'GET /fapi/v2/account':
    case 'GET /fapi/v3/positionRisk':
    case 'GET /fapi/v2/positionRisk':
    case 'GET /fapi/v1/userTrades':
    case 'GET /fapi/v1/allOrders':
      return 5;
    case 'GET /fapi/v1/commissionRate':
      return 20;
    case 'GET /fapi/v1/positionSide/dual':
      return 30;
    case 'POST /fapi/v1/order':
    case 'POST /fapi/v1/algoOrder':
      return 0;
    case 'GET /sapi/v1/capital/config/getall':
      return 10;
    default:
      return 1;
  }
}

/** New orders count toward the account's order limits (10 s and 1 min). */
export const isOrderPlacement = (method: string, path: string) => method === 'POST' && /\/fapi\/v1\/(order|algoOrder|batchOrders)$/.test(path);
