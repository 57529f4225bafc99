/**
 * Simulated OpenAI-compatible LLM server for offline runs and tests. Start it with
 * `startSimLlm()` and point the OpenAI client at `baseUrl`.
 */
export { startSimLlm } from './server';
export { SIM_MODEL, FAULT_KINDS } from './types';
export { SIM_QUIRKS, QUIRK_ALIASES, parseQuirks } from './quirks';
export type {
  SimQuirk,
  FaultKind,
  FaultMatch,
  FaultSpec,
  SimLlm,
  SimLlmOptions,
  SimMessage,
  SimRequestRecord,
} from './types';
export { SimContent, rolesFromPlanSchema } from './content';
export type { AnswerInput } from './content';
export { sampleFromSchema } from './json-schema-sample';
export { VIEWPORT_FEEDBACK } from './review';
