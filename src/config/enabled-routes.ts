import { ROUTES } from './route-table.js'
import type { RouteSpec, RouteSwitch } from './route-table.js'
import type { GatewayConfig } from './types.js'

/** Whether each switch of the route table is on in this configuration. */
function switchedOn(config: GatewayConfig, name: RouteSwitch): boolean {
  switch (name) {
    case 'always':
      return true
    case 'ENABLE_CONVERSATIONS':
      return config.policy.enableConversations
    case 'ENABLE_FEEDBACK':
      return config.policy.enableFeedback
    case 'ENABLE_USER_DATA':
      return config.policy.enableUserData
    case 'ENABLE_SEARCH_KEY':
      return config.searchKey.enabled
    case 'COMPACT_MODEL':
      return config.policy.compactProviderId !== undefined && config.policy.compactModel !== undefined
  }
}

/** The routes this gateway serves: the route table's, less those switched off. */
export function enabledRoutes(config: GatewayConfig): readonly (typeof ROUTES)[number][] {
  return ROUTES.filter((route: RouteSpec) => switchedOn(config, route.enabledBy))
}
