import { afterAll } from 'vitest';
import { killSpawned } from './processes.js';
import { stopOwnRedisServers } from './services.js';
import { removeTempDirs } from './temp.js';

// Registered first, so it runs after each test file's own afterAll hooks, whether its tests
// passed or failed: no process and no temp folder outlives the file.
afterAll(async () => {
  await killSpawned();
  stopOwnRedisServers();
  removeTempDirs();
});
