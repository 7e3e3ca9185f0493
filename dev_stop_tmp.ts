import { CriClient } from './src/kubelet/cri/client.ts';
const c = new CriClient(process.argv[2]!);
const t0 = Date.now();
try { await c.stopContainer(process.argv[3]!, 1, { timeoutMs: 15000 }); console.log('stopped', Date.now() - t0); } catch (e) { console.log('err', Date.now() - t0, (e as Error).message); }
c.close();
