import type { LimitsConfig } from '../config/limits.js'

/**
 * Priorities of the application's Agent Studio budget (issue 20): chat first, history reads next,
 * background work (erasure, exports) last. A class may fill the window only up to its ceiling, so
 * history can never take the last fifth of the window from chat, and background work never more
 * than half of it: under any load, chat keeps at least 20% of the budget for itself, and chat and
 * history together at least 50%.
 */
export type BudgetClass = 'chat' | 'history' | 'background'

const CEILING: Record<BudgetClass, number> = { chat: 1, history: 0.8, background: 0.5 }

type RouteName = keyof LimitsConfig['routes']

/** Each route group's class; a new route group must be placed here (the compiler says so). */
export const ROUTE_BUDGET_CLASS: Record<RouteName, BudgetClass> = {
  completions: 'chat',
  tasks: 'chat',
  conversations: 'history',
  feedback: 'history',
  userData: 'background',
  // Summarising a long chat to go on with it (context/compact): part of chatting.
  compact: 'chat',
  // Calls no upstream (POST /search-key): never spends the budget.
  searchKey: 'background'
}

/** How many of the window's calls a class may have spent before it is refused (at least 1 when the budget is on). */
export function classCeiling(budgetMax: number, budgetClass: BudgetClass): number {
  return Math.max(1, Math.floor(budgetMax * CEILING[budgetClass]))
}

/** The user's share of the window: `perUser`, or when 0 a tenth of the budget (at least 1). */
export function userShare(budget: LimitsConfig['upstreamBudget']): number {
  return budget.perUser > 0 ? budget.perUser : Math.max(1, Math.ceil(budget.max / 10))
}
