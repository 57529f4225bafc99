/**
 * The data converter every Maestro process uses (client, workers, CLI): the SDK's default, plus
 * the AES-256-GCM codec when encryption keys are configured. One function, so a process can never
 * write payloads another cannot read.
 */
import type { DataConverter } from '@temporalio/common';
import type { MaestroConfig } from '../config';
import { AesGcmCodec } from './aes-gcm-codec';

/** Data converter options for `Client`/`Worker.create`; undefined when encryption is off. */
export function maestroDataConverter(config: Pick<MaestroConfig, 'encryption'>): DataConverter | undefined {
  return config.encryption ? { payloadCodecs: [new AesGcmCodec(config.encryption)] } : undefined;
}
