// Decodes `application/vnd.kubernetes.protobuf` request bodies (what kubectl's typed commands send)
// into the plain JSON object the same request would have carried as JSON, so the apiserver handles
// both content types with one code path. Envelope: `k8s\0` + runtime.Unknown{typeMeta, raw, …}.
import { ProtobufDecodeError, ProtobufErrorCode } from './errors.ts';
import { messageToJson, type GoJsonContext } from './go_json.ts';
import { messageForKind, messageSpec } from './schema.ts';
import { readMessage, type RawMessage } from './wire.ts';

/** A decoded body: the envelope's apiVersion/kind and the object, which carries them too. */
export interface DecodedObject {
  apiVersion: string;
  kind: string;
  object: Record<string, unknown>;
}

/** Defaults for an envelope without apiVersion/kind (upstream fills them from the URL's type). */
export interface DecodeOptions {
  defaultApiVersion?: string;
  defaultKind?: string;
}

/** The four bytes every Kubernetes protobuf body starts with. */
export const protobufMagic: Uint8Array = Uint8Array.of(0x6b, 0x38, 0x73, 0x00);

/** RawExtensions may hold protobuf objects that hold RawExtensions …; real ones nest once or twice. */
const maxEmbedding = 8;

function hasMagic(body: Uint8Array): boolean {
  return body.length >= protobufMagic.length && protobufMagic.every((b, i) => body[i] === b);
}

function decodeAt(body: Uint8Array, options: DecodeOptions, embedding: number): DecodedObject {
  if (body.length === 0) throw new ProtobufDecodeError(ProtobufErrorCode.Empty, 'empty data');
  if (!hasMagic(body)) {
    throw new ProtobufDecodeError(ProtobufErrorCode.BadMagic, `provided data does not appear to be a protobuf message, expected prefix [${protobufMagic.join(' ')}]`);
  }
  if (body.length === protobufMagic.length) throw new ProtobufDecodeError(ProtobufErrorCode.Empty, 'empty body');
  if (embedding > maxEmbedding) throw new ProtobufDecodeError(ProtobufErrorCode.Malformed, 'proto: embedded objects nested too deeply');

  const unknown = readMessage(body.subarray(protobufMagic.length), 'runtime.Unknown');
  const typeMeta = unknown.get(1) as RawMessage | undefined;
  const sentVersion = (typeMeta?.get(1) as string | undefined) ?? '';
  const sentKind = (typeMeta?.get(2) as string | undefined) ?? '';
  const kind = sentKind || (options.defaultKind ?? '');
  const apiVersion = sentVersion || (options.defaultApiVersion ?? '');
  const described = `runtime.TypeMeta{APIVersion:${JSON.stringify(sentVersion)}, Kind:${JSON.stringify(sentKind)}}`;
  if (kind === '') throw new ProtobufDecodeError(ProtobufErrorCode.MissingKind, `Object 'Kind' is missing in '${described}'`, { apiVersion });
  if (apiVersion === '') throw new ProtobufDecodeError(ProtobufErrorCode.MissingVersion, `Object 'apiVersion' is missing in '${described}'`, { kind });

  const gvk = { apiVersion, kind };
  const messageName = messageForKind(apiVersion, kind);
  if (messageName === undefined) {
    throw new ProtobufDecodeError(
      ProtobufErrorCode.UnknownKind,
      `no kind ${JSON.stringify(kind)} is registered for version ${JSON.stringify(apiVersion)} in scheme "k8s.io/kubernetes/pkg/api/legacyscheme/scheme.go:30"`,
      gvk,
    );
  }
  const raw = unknown.get(2);
  const ctx: GoJsonContext = { decodeEmbedded: (bytes) => decodeAt(bytes, {}, embedding + 1).object };
  try {
    const fields = readMessage(raw instanceof Uint8Array ? raw : new Uint8Array(0), messageName);
    const json = messageToJson(messageSpec(messageName), fields, ctx) as Record<string, unknown>;
    // TypeMeta is inlined first in every kind: kind, then apiVersion.
    return { apiVersion, kind, object: { kind, apiVersion, ...json } };
  } catch (err) {
    if (err instanceof ProtobufDecodeError && err.kind === undefined) throw new ProtobufDecodeError(err.code, err.message, gvk);
    throw err;
  }
}

/**
 * Decodes a Kubernetes protobuf body of a built-in kind into its JSON object.
 * Throws ProtobufDecodeError (bad prefix, missing or unknown kind, malformed wire data).
 */
export function decodeKubernetesProtobuf(body: Uint8Array, options: DecodeOptions = {}): DecodedObject {
  return decodeAt(body, options, 0);
}
