/**
 * The `compatibilityMode` query values of `POST /1/agents/{agentId}/completions`: `ai-sdk-4` and
 * `ai-sdk-5` in the published spec (algolia/api-clients-automation, specs/agent-studio/), `ag-ui`
 * in the newer spec files with its own body. The gateway keeps its own list
 * (src/config/settings.ts); test/system/standin-contract.test.ts checks that the two agree.
 */
export const COMPATIBILITY_MODES = ['ai-sdk-4', 'ai-sdk-5', 'ag-ui'] as const
export type CompatibilityMode = (typeof COMPATIBILITY_MODES)[number]
