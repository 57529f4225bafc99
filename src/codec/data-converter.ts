/**
 * The data converter every Maestro process uses (client, workers, CLI): the SDK's default, plus
 * the AES-256-GCM codec and the encoded-failure converter when encryption keys are configured. One
 * function, so a process can never write payloads or failures another cannot read.
 */
import type { DataConverter } from '@temporalio/common';
import type { MaestroConfig } from '../config';
import { AesGcmCodec } from './aes-gcm-codec';

/**
 * Module of the failure converter that moves failure messages and stack traces into an encoded
 * (so: encrypted) payload; the workflow bundle of an encrypted worker must include the same one.
 */
export const ENCODED_FAILURE_CONVERTER_PATH = require.resolve('./encoded-failure-converter');

/** Data converter options for `Client`/`Worker.create`; undefined when encryption is off. */
export function maestroDataConverter(config: Pick<MaestroConfig, 'encryption'>): DataConverter | undefined {
  return config.encryption
    ? { payloadCodecs: [new AesGcmCodec(config.encryption)], failureConverterPath: ENCODED_FAILURE_CONVERTER_PATH }
    : undefined;
}
