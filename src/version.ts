/** Version of this library; part of the Lua command names so versions can share a Redis. */
export const LIBRARY_VERSION = '2.0.0-alpha.0';
