import { ROUTE_GROUPS } from '../config/route-table.js'
import type { BudgetClass, RouteGroup } from '../config/route-table.js'

export type { BudgetClass } from '../config/route-table.js'

/**
 * Priorities of the application's Agent Studio budget (issue 20): chat first, history reads next,
 * background work (erasure, exports) last. A class may fill the window only up to its ceiling, so
 * history can never take the last fifth of the window from chat, and background work never more
 * than half of it: under any load, chat keeps at least 20% of the budget for itself, and chat and
 * history together at least 50%.
 */

const CEILING: Record<BudgetClass, number> = { chat: 1, history: 0.8, background: 0.5 }

/** Each route group's class, as the route table declares it (src/config/route-table.ts). */
export function routeBudgetClass(group: RouteGroup): BudgetClass {
  return ROUTE_GROUPS[group].budgetClass
}

/** How many of the window's calls a class may have spent before it is refused (at least 1 when the budget is on). */
export function classCeiling(budgetMax: number, budgetClass: BudgetClass): number {
  return Math.max(1, Math.floor(budgetMax * CEILING[budgetClass]))
}
