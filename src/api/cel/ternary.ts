// The conditional operator as cel-go's checker types it, on top of cel-js: null may join a
// nullable branch type (messages, opaque types, timestamp, duration), and refused ternaries are
// reported in cel-go's words ("found no matching overload for '_?_:_' applied to '(...)'").
import { forEachNode } from './ast.ts';

/** The cel-js type-checker's view of a type (not part of cel-js's typings). */
interface CheckedType {
  readonly kind: string;
  readonly name: string;
  readonly keyType?: CheckedType;
  readonly valueType?: CheckedType;
}

/** The AST node shape the ternary handling relies on (not part of cel-js's typings). */
interface CheckNode {
  readonly op: string;
  readonly args: unknown;
  readonly start: number;
  readonly end: number;
  readonly checkedType?: CheckedType;
  readonly meta: { readonly check?: CheckFn; readonly label?: string; readonly alternate?: unknown; readonly macro?: unknown };
  setMeta(key: string, value: unknown): CheckNode;
}
type CheckFn = (chk: { check(node: CheckNode, ctx: unknown): CheckedType }, ast: CheckNode, ctx: unknown) => CheckedType;

/** A type as cel-go's checker prints it in "found no matching overload" issues. */
function celGoType(t: CheckedType | undefined): string {
  if (!t) return 'dyn';
  switch (t.kind) {
    case 'list': return `list(${celGoType(t.valueType)})`;
    case 'map': return `map(${celGoType(t.keyType)}, ${celGoType(t.valueType)})`;
    case 'optional': return `optional_type(${celGoType(t.valueType)})`;
    case 'dyn': case 'param': return 'dyn';
    default:
      if (t.name === 'google.protobuf.Timestamp') return 'timestamp';
      if (t.name === 'google.protobuf.Duration') return 'duration';
      return t.name;
  }
}

/** cel-go's internalIsAssignableNull: structs, opaque types (optional, kubernetes.*), timestamp, duration. */
function celGoNullable(t: CheckedType | undefined): boolean {
  return t !== undefined && (t.kind === 'message' || t.kind === 'optional');
}

function isNullType(t: CheckedType | undefined): boolean {
  return t !== undefined && t.kind === 'primitive' && t.name === 'null';
}

function isCheckNode(x: unknown): x is CheckNode {
  return typeof x === 'object' && x !== null && typeof (x as CheckNode).op === 'string' && typeof (x as CheckNode).setMeta === 'function';
}

/**
 * cel-js types `c ? a : b` only when a and b unify, so `c ? quantity(x) : null` fails there; cel-go
 * binds `_?_:_`'s type parameter and lets null join a nullable type (its internalIsAssignableNull),
 * typing the whole as the first branch's type (mostGeneral keeps the earlier binding). cel-js has
 * no option for this, so each user ternary's check is wrapped: it retries that one case and leaves
 * every other incompatibility an error, as cel-go does (`c ? 'text' : null` too: a string is not
 * nullable in cel-go, so upstream refuses it). An invalid condition also gets its branch types
 * checked, so the error can be worded as cel-go's "found no matching overload for '_?_:_'".
 */
export function allowNullableTernaries(root: unknown): void {
  forEachNode(root, (node) => {
    const x = node as CheckNode;
    const original = x.meta.check;
    if (x.op === '?:' && original) x.setMeta('check', nullableTernaryCheck(original));
  });
}

/** The ternary whose condition an invalid_condition_type error is about (the error names the condition). */
const conditionOf = new WeakMap<object, CheckNode>();

function nullableTernaryCheck(original: CheckFn): CheckFn {
  return function checkTernary(chk, ast, ctx) {
    try {
      return original(chk, ast, ctx);
    } catch (err) {
      const code = (err as { code?: string }).code;
      const [, left, right] = ast.args as CheckNode[];
      if (code === 'incompatible_ternary_branches' && left && right) {
        const l = left.checkedType, r = right.checkedType;
        // cel-js set the node's evaluation handler before refusing the types, so it runs as usual.
        if ((isNullType(r) && celGoNullable(l)) || (isNullType(l) && celGoNullable(r))) return l!;
      } else if (code === 'invalid_condition_type' && left && right) {
        try {
          chk.check(left, ctx);
          chk.check(right, ctx);
        } catch {
          // the condition's error is the one reported
        }
        if (typeof err === 'object' && err !== null) conditionOf.set(err, ast);
      }
      throw err;
    }
  };
}

/** The offset of a user ternary's `?` (cel-go reports `_?_:_` issues there), or undefined for macro-made ones. */
function questionMarkOffset(expression: string, node: CheckNode): number | undefined {
  const [cond, left] = node.args as CheckNode[];
  if (!cond || !left || cond.meta.label !== undefined) return undefined;
  const between = expression.slice(cond.end, left.start);
  const at = between.replace(/\/\/[^\n]*/g, (c) => ' '.repeat(c.length)).indexOf('?');
  return at < 0 ? undefined : cond.end + at;
}

/** cel-go's wording and position for a ternary cel-js refused, when the error is one. */
export function ternaryIssue(expression: string, err: unknown): { summary: string; offset: number } | undefined {
  const e = err as { code?: string; node?: unknown };
  const node = e.code === 'invalid_condition_type' && typeof err === 'object' && err !== null ? conditionOf.get(err)
    : e.code === 'incompatible_ternary_branches' ? e.node : undefined;
  if (!isCheckNode(node) || node.op !== '?:') return undefined;
  const args = node.args as CheckNode[];
  if (args.length !== 3 || args.some((a) => !a.checkedType)) return undefined;
  const offset = questionMarkOffset(expression, node);
  if (offset === undefined) return undefined;
  return { summary: `found no matching overload for '_?_:_' applied to '(${args.map((a) => celGoType(a.checkedType)).join(', ')})'`, offset };
}
