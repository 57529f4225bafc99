/**
 * Maestro's custom search attributes on a real cluster: which are registered, which are missing,
 * and registering the missing ones. Shared by `maestro setup`, `maestro list` and the client's
 * `searchAttributesRegistered()` (a run only upserts attributes the namespace knows, because
 * upserting an unknown one fails the workflow task).
 */
import { isGrpcServiceError, type Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { MAESTRO_SEARCH_ATTRIBUTES, type SearchAttributeType } from '../shared/constants';

const IndexedValueType = temporal.api.enums.v1.IndexedValueType;

/** Wire code of a search attribute type (`temporal.api.enums.v1.IndexedValueType`). */
export const INDEXED_VALUE_TYPES: Readonly<Record<SearchAttributeType, number>> = Object.freeze({
  Text: IndexedValueType.INDEXED_VALUE_TYPE_TEXT,
  Keyword: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  Int: IndexedValueType.INDEXED_VALUE_TYPE_INT,
  Double: IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE,
  Bool: IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
  Datetime: IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
  KeywordList: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
});

/** Readable name of a wire type code, for messages. */
export function searchAttributeTypeName(code: number): string {
  return Object.entries(INDEXED_VALUE_TYPES).find(([, c]) => c === code)?.[0] ?? `type #${code}`;
}

/** How the namespace's search attributes compare with the ones Maestro wants. */
export interface SearchAttributeCheck {
  /** Registered with the right type. */
  present: string[];
  /** Not registered at all. */
  missing: string[];
  /** Registered under the same name with another type: only a person can resolve that. */
  conflicting: { name: string; wanted: SearchAttributeType; actual: string }[];
}

/** Compares the namespace's custom search attributes with `wanted` (default: Maestro's). */
export async function checkSearchAttributes(
  client: Client,
  namespace: string,
  wanted: Readonly<Record<string, SearchAttributeType>> = MAESTRO_SEARCH_ATTRIBUTES,
): Promise<SearchAttributeCheck> {
  const { customAttributes } = await client.connection.withDeadline(Date.now() + 10_000, () =>
    client.connection.operatorService.listSearchAttributes({ namespace }),
  );
  const check: SearchAttributeCheck = { present: [], missing: [], conflicting: [] };
  for (const [name, type] of Object.entries(wanted)) {
    const actual: number | null | undefined = customAttributes?.[name];
    if (actual === undefined || actual === null) check.missing.push(name);
    else if (actual !== INDEXED_VALUE_TYPES[type])
      check.conflicting.push({ name, wanted: type, actual: searchAttributeTypeName(actual) });
    else check.present.push(name);
  }
  return check;
}

/**
 * Whether every name in `names` can be used in a visibility query on the namespace. Works where
 * the operator API is not open to the caller (Temporal Cloud with an API key): an unknown
 * attribute makes the query fail with INVALID_ARGUMENT.
 */
export async function queryableSearchAttributes(client: Client, namespace: string, names: string[]): Promise<boolean> {
  const query = names.map((n) => `${n} IS NULL`).join(' AND ');
  try {
    await client.connection.withDeadline(Date.now() + 10_000, () =>
      client.workflowService.countWorkflowExecutions({ namespace, query }),
    );
    return true;
  } catch (err) {
    if (grpcCode(err) === GRPC_INVALID_ARGUMENT) return false;
    throw err;
  }
}

/** Whether all of `names` are registered, via the operator API or, failing that, a query. */
export async function searchAttributesUsable(
  client: Client,
  namespace: string,
  names: string[] = Object.keys(MAESTRO_SEARCH_ATTRIBUTES),
): Promise<boolean> {
  const wanted = Object.fromEntries(names.map((n) => [n, MAESTRO_SEARCH_ATTRIBUTES[n] ?? 'Keyword']));
  try {
    const check = await checkSearchAttributes(client, namespace, wanted);
    return check.missing.length === 0 && check.conflicting.length === 0;
  } catch (err) {
    if (OPERATOR_REFUSED.has(grpcCode(err) ?? -1)) return queryableSearchAttributes(client, namespace, names);
    throw err;
  }
}

/** The gRPC status code of a failed Temporal call, or undefined for other errors. */
export function grpcCode(err: unknown): number | undefined {
  return isGrpcServiceError(err) ? Number(err.code) : undefined;
}

/** gRPC status codes (stable protocol numbers). */
export const GRPC_INVALID_ARGUMENT = 3;
/** The namespace (or other entity) does not exist. */
export const GRPC_NOT_FOUND = 5;
/** The caller may not use this API (Temporal Cloud's operator API with a namespace API key). */
export const GRPC_PERMISSION_DENIED = 7;
/** The server does not offer this API. */
export const GRPC_UNIMPLEMENTED = 12;

const OPERATOR_REFUSED = new Set([GRPC_PERMISSION_DENIED, GRPC_UNIMPLEMENTED]);

/** The `temporal` CLI line that registers one attribute, for instructions to a person. */
export function createSearchAttributeCommand(namespace: string, name: string, type: SearchAttributeType): string {
  return `temporal operator search-attribute create --namespace ${namespace} --name ${name} --type ${type}`;
}
