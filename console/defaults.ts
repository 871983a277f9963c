/** Where `ats up` serves the web console unless told otherwise. */
export const DEFAULT_CONSOLE_PORT = 8090;
