// Typed faults of the protobuf request-body decoder. The apiserver maps every one of them to a 400
// BadRequest (upstream wraps decode failures the same way); `code` says which fault it was.

/** Why a protobuf body could not be decoded. */
export const ProtobufErrorCode = {
  /** The body is empty or only the `k8s\0` prefix. */
  Empty: 'Empty',
  /** The body does not start with `k8s\0`. */
  BadMagic: 'BadMagic',
  /** The envelope names no kind, or no apiVersion. */
  MissingKind: 'MissingKind',
  MissingVersion: 'MissingVersion',
  /** apiVersion/kind is not a built-in type we have a schema for. */
  UnknownKind: 'UnknownKind',
  /** Truncated or otherwise invalid wire data, or a value Go's JSON encoder could not print. */
  Malformed: 'Malformed',
} as const;
export type ProtobufErrorCode = (typeof ProtobufErrorCode)[keyof typeof ProtobufErrorCode];

/** A body that is not a decodable Kubernetes protobuf message. */
export class ProtobufDecodeError extends Error {
  readonly code: ProtobufErrorCode;
  /** From the envelope, when it was readable (callers phrase "X in version Y cannot be handled as …"). */
  readonly apiVersion: string | undefined;
  readonly kind: string | undefined;
  constructor(code: ProtobufErrorCode, message: string, gvk?: { apiVersion?: string; kind?: string }) {
    super(message);
    this.name = 'ProtobufDecodeError';
    this.code = code;
    this.apiVersion = gvk?.apiVersion;
    this.kind = gvk?.kind;
  }
}
