/** The signed-in demo user, as the server wrote it into `<body data-user>` ('' when nobody is signed in). */
export const demoUser = document.body.dataset.user ?? ''

/**
 * "Sign in again" after a 401: as the same user (the session ended, the person did not change),
 * or, when the page never knew one, through the demo's sign-in page to pick one.
 */
export function signInAgainHref(page: string): string {
  return `/demo/login?${demoUser === '' ? '' : `user=${encodeURIComponent(demoUser)}&`}next=${encodeURIComponent(page)}`
}
