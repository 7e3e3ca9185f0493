// Imports every storage driver so each registers its scheme with ../registry.ts.
import './memory.ts';
import './sqlite.ts';
import './etcd.ts';
