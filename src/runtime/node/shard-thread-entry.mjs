// The storage thread's entry point: the sources are TypeScript, compiled on load as in bin/.
import { register } from 'tsx/esm/api';

register();
await import('./shard-thread-host.ts');
