/** Read-only all the way down, as the loader freezes it (URLs and key bytes are left as they are). */
export type Frozen<T> = T extends URL | Uint8Array
  ? T
  : T extends readonly (infer Item)[]
    ? readonly Frozen<Item>[]
    : T extends object
      ? { readonly [K in keyof T]: Frozen<T[K]> }
      : T
