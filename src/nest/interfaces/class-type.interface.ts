/** Any class, abstract or not, whatever its constructor takes. */
export type ClassType<T = object> = abstract new (...args: never[]) => T;
