/**
 * A program for `core/process.test.ts`: a process started as every ats process is
 * (`startProcess`) that logs a warning every 20 ms, as a busy child of `ats up` does. Its test
 * closes the pipes it writes to, as a kill -9 of `ats up` does.
 */
import { startProcess } from '../core/process.js';

const ctx = startProcess('fixture');
let n = 0;
setInterval(() => ctx.root.logger.warn({ n: n++ }, 'tick'), 20);
console.log('started');
