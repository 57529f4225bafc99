/**
 * The failure converter of encrypted deployments: the SDK's default with
 * `encodeCommonAttributes`, so a failure's message and stack trace travel in its
 * `encodedAttributes` payload, which the payload codec encrypts like every other payload. Without
 * it a rejection comment, a model's refusal or a file path in an activity error is stored in plain
 * text in the history even though inputs and results are encrypted.
 *
 * Loaded by path (`failureConverterPath`) on the Node side and bundled into the workflow code
 * (workflows convert their own failures), so it imports nothing but `@temporalio/common`.
 */
import { DefaultFailureConverter } from '@temporalio/common';

/**
 * Text that appears in a workflow bundle exactly when this converter is bundled into it; a worker
 * with encryption refuses a bundle without it (its workflows' failures would be plain text).
 */
export const ENCODED_FAILURES_MARKER = 'maestro-encoded-failure-converter-v1';

/** The converter (the export name the SDK looks for). */
export const failureConverter = Object.assign(new DefaultFailureConverter({ encodeCommonAttributes: true }), {
  marker: ENCODED_FAILURES_MARKER,
});
