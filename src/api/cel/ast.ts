// Walks a cel-js AST (not part of cel-js's typings): every node once, through its arguments and
// the nodes cel-js keeps beside them (a macro's expansion, an alternate form). cost.ts and
// ternary.ts instrument checked ASTs with it.

/** What every cel-js AST node has (the files walking it declare the rest they rely on). */
export interface WalkedNode {
  readonly op: string;
  readonly args: unknown;
  readonly meta: { readonly alternate?: unknown; readonly macro?: unknown };
}

/** Whether `x` is a cel-js AST node (an ASTNode: an op name, evaluate and setMeta). */
export function isAstNode(x: unknown): x is WalkedNode {
  if (typeof x !== 'object' || x === null) return false;
  const n = x as { op?: unknown; evaluate?: unknown; setMeta?: unknown };
  return typeof n.op === 'string' && typeof n.evaluate === 'function' && typeof n.setMeta === 'function';
}

/** Calls `visit` on each node reachable from `root`, parents before their arguments, each once. */
export function forEachNode(root: unknown, visit: (node: WalkedNode) => void): void {
  const seen = new Set<unknown>();
  const walk = (x: unknown): void => {
    if (x === null || typeof x !== 'object' || seen.has(x)) return;
    seen.add(x);
    if (Array.isArray(x)) {
      for (const y of x) walk(y);
      return;
    }
    if (!isAstNode(x)) {
      for (const y of Object.values(x)) walk(y);
      return;
    }
    visit(x);
    walk(x.args);
    walk(x.meta.alternate);
    walk(x.meta.macro);
  };
  walk(root);
}
