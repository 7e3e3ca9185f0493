import { CriClient } from '/work/main/src/kubelet/cri/client.ts';
const c = new CriClient(process.argv[2]!);
for (const s of await c.listPodSandbox()) console.log('sb', s.id.slice(0, 12), s.state, s.metadata?.name);
for (const s of await c.listContainers()) console.log('c', s.id.slice(0, 12), s.state, s.metadata?.name, s.labels['io.kubernetes.pod.name']);
c.close();
