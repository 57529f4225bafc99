/**
 * What the executor activity needs from its worker: the LLM gateway (src/gateway, started per
 * attempt) and the provider it forwards to, where CLIs are installed, and where attempt folders
 * go. Tests inject their own gateway and folders.
 */
import type { LlmSettings } from '../llm/client';
import type { StartGateway } from './gateway-port';

/** Dependencies of `runExecutor`. */
export interface ExecutorDeps {
  startGateway: StartGateway;
  /** The role's real provider (the worker's OPENAI_BASE_URL / key, or the simulator). */
  llm: LlmSettings;
  /** MAESTRO_HOME: CLIs installed under `<home>/agent-clis` are found there first. */
  maestroHome?: string;
  /** Parent folder of attempt folders (default: the OS temp folder). */
  workspaceParent?: string;
}
