/** Simulator defaults, apart from the server so the CLI can show them without loading it. */
export const DEFAULT_SIM_PORT = 8480;
export const DEFAULT_SYMBOLS = ['BTCUSDT', 'ETHUSDT', 'BNBUSDT', 'SOLUSDT', 'XRPUSDT', 'DOGEUSDT'] as const;
